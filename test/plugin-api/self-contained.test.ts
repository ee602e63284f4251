// The plugin contract owns every type it exposes: a file of src/plugin-api imports only its
// siblings (and tfjs types), never another folder of src/, so plugin authors read one folder and
// src/util can implement the contract (Rng, JsonSchema) without a folder cycle.
import { strict as assert } from 'node:assert';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { repoRoot } from '../helpers/paths.js';

const dir = join(repoRoot, 'src', 'plugin-api');

/** The module specifiers of every import / export-from in a TypeScript source. */
function specifiers(source: string): string[] {
  return [...source.matchAll(/(?:import|export)\b[^'"]*?\bfrom\s+'([^']+)'/g)].map((m) => m[1]!);
}

describe('src/plugin-api', () => {
  it('finds import specifiers the way the check reads them', () => {
    const source = "import type { A } from './a.js';\nexport type * from '../util/b.js';\n";
    assert.deepEqual(specifiers(source), ['./a.js', '../util/b.js']);
  });

  it('imports only its own files and tfjs types', () => {
    const files = readdirSync(dir).filter((f) => f.endsWith('.ts'));
    assert.ok(files.includes('rng.ts') && files.includes('schema.ts'), files.join(', '));
    for (const file of files) {
      for (const spec of specifiers(readFileSync(join(dir, file), 'utf8'))) {
        const ok = /^\.\/[\w-]+\.js$/.test(spec) || spec === '@tensorflow/tfjs-core';
        assert.ok(ok, `src/plugin-api/${file} imports '${spec}'`);
      }
    }
  });
});
