// A missing file through the real CLI: the readFailed factory's E_IO, located at the recipe line
// that names the file (added by the stage fingerprint), exit code 2, no stack trace.
import { strict as assert } from 'node:assert';
import { promises as fs } from 'node:fs';
import { join } from 'node:path';
import { checkPathHint } from '../../src/error-factories.js';
import { tempDir } from '../helpers/paths.js';
import { runCli } from '../cli/cli-helpers.js';

describe('CLI: file errors from the factories', function () {
  this.timeout(60000);
  let dir: string;
  before(() => {
    dir = tempDir('scalpel-cli-file-errors-');
  });
  after(() => fs.rm(dir, { recursive: true, force: true }));

  it('validate: a missing model file is E_IO at the recipe line, exit 2', async () => {
    const recipe = join(dir, 'missing.yaml');
    const line = '  model: { uses: load-model, with: { path: gone/model.json } }';
    await fs.writeFile(recipe, `version: 1\nbackend: cpu\nstages:\n${line}\n`);
    const r = await runCli(['validate', recipe], dir);
    assert.equal(r.code, 2, r.stderr);
    const col = line.indexOf('{ path') + 1; // the stage's `with` mapping
    assert.ok(
      r.stderr.includes(
        `${recipe}:4:${col}: E_IO: file not found: ${join(dir, 'gone', 'model.json')} (stage 'model')`,
      ),
      r.stderr,
    );
    assert.ok(r.stderr.includes(`hint: ${checkPathHint}`), r.stderr);
    assert.doesNotMatch(r.stderr, /^\s+at /m);
  });
});
