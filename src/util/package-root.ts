// Files that ship with scalpel (schemas/, assets/, plugins/, package.json) are found relative to
// the package root, located by walking up from this compiled file: that works from dist/ and from
// any other build directory, and after `npm install scalpel`.
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

function findPackageRoot(start: string): string {
  let dir = start;
  for (;;) {
    const pkg = join(dir, 'package.json');
    if (existsSync(pkg)) {
      const json = JSON.parse(readFileSync(pkg, 'utf8')) as { name?: unknown };
      if (json.name === 'scalpel') return dir;
    }
    const parent = dirname(dir);
    if (parent === dir) throw new Error(`scalpel: cannot find the package root above ${start}`);
    dir = parent;
  }
}

export const packageRoot: string = findPackageRoot(dirname(fileURLToPath(import.meta.url)));

/** Absolute path of a file shipped with scalpel, e.g. `fromPackageRoot('schemas', 'recipe.schema.json')`. */
export function fromPackageRoot(...parts: string[]): string {
  return join(packageRoot, ...parts);
}

/** The `version` field of scalpel's package.json. */
export function scalpelVersion(): string {
  const json = JSON.parse(readFileSync(join(packageRoot, 'package.json'), 'utf8')) as {
    version: string;
  };
  return json.version;
}
