// Reads the bad-recipe fixture folders (format: test/fixtures/bad-recipes/README.md) and prepares
// the file each case loads. Shared by the fixture test; the CLI tests may use it too.
import { chmodSync, copyFileSync, existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { fixturesDir, tempDir } from '../helpers/paths.js';

export interface ExpectedError {
  code: string;
  /** 1-based; null when the error has no position in the file (e.g. file missing, bad --set syntax). */
  line: number | null;
  col: number | null;
  /** A fragment of the error message. */
  message: string;
  /** A fragment of the hint (optional). */
  hint?: string;
  /** `--set` overrides to pass. */
  set?: string[];
  /** File to load instead of recipe.yaml, relative to the case folder. */
  file?: string;
  /** Make a special file from recipe.yaml first: 'unreadable' (chmod 000) or 'fifo' (a named pipe). */
  prepare?: 'unreadable' | 'fifo';
  /** Validate with scalpel's built-in stage types, pruners and solvers (default: none, plugins only). */
  builtins?: boolean;
}

export interface BadRecipeCase {
  name: string;
  dir: string;
  expected: ExpectedError;
}

export const badRecipesDir = join(fixturesDir, 'bad-recipes');

export function badRecipeCases(): BadRecipeCase[] {
  return readdirSync(badRecipesDir)
    .filter((name) => statSync(join(badRecipesDir, name)).isDirectory())
    .sort()
    .map((name) => {
      const dir = join(badRecipesDir, name);
      const expected = JSON.parse(
        readFileSync(join(dir, 'expected.json'), 'utf8'),
      ) as ExpectedError;
      return { name, dir, expected };
    });
}

/**
 * The path to load for a case, or a reason to skip it (`chmod 000` does not stop root from
 * reading a file, so the unreadable case cannot be produced when tests run as root).
 */
export function prepareCase(c: BadRecipeCase): { file: string } | { skip: string } {
  const source = join(c.dir, c.expected.file ?? 'recipe.yaml');
  if (c.expected.prepare === undefined) return { file: source };
  const target = join(tempDir('scalpel-bad-recipe-'), 'recipe.yaml');
  if (c.expected.prepare === 'unreadable') {
    copyFileSync(source, target);
    chmodSync(target, 0o000);
    try {
      readFileSync(target);
      return {
        skip: 'running with privileges that ignore file permissions (root): chmod 000 cannot make a file unreadable',
      };
    } catch {
      return { file: target };
    }
  }
  try {
    execFileSync('mkfifo', [target]);
  } catch (e) {
    return { skip: `mkfifo is not available: ${e instanceof Error ? e.message : String(e)}` };
  }
  return existsSync(target) ? { file: target } : { skip: 'mkfifo made no file' };
}
