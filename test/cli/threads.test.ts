// --threads through the real CLI: the wasm backend starts with that many threads (a fresh process
// per run, as a wasm module keeps its thread count), lock.json records the count, --jobs
// processes share the budget, and a bad value is a usage error naming the flag.
import { strict as assert } from 'node:assert';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { tempDir } from '../helpers/paths.js';
import { readJson, runCli, runDirOf, writeRecipe } from './cli-helpers.js';

interface Lock {
  backend: { name: string; threads?: number };
}

describe('CLI run: --threads', function () {
  this.timeout(120_000);
  let dir: string;
  let recipe: string;
  before(() => {
    dir = tempDir('scalpel-threads-');
    recipe = writeRecipe(dir, { a: { uses: 'count', with: { value: 1 } } });
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  const lockOf = (args: string[], out: string): Promise<Lock> =>
    runCli(['run', recipe, '--backend', 'wasm', '--no-cache', '--out', out, ...args], dir).then(
      (r) => {
        assert.equal(r.code, 0, r.stderr);
        return readJson<Lock>(join(runDirOf(r, dir), 'lock.json'));
      },
    );

  it('starts wasm with --threads 2 and records 2 threads in lock.json', async () => {
    const lock = await lockOf(['--threads', '2'], 'two');
    assert.deepEqual([lock.backend.name, lock.backend.threads], ['wasm', 2]);
  });

  it("takes the recipe's threads: 1 (the single-threaded build) without the flag", async () => {
    const lock = await lockOf(['--set', 'threads=1'], 'one');
    assert.deepEqual([lock.backend.name, lock.backend.threads], ['wasm', 1]);
  });

  it('gives each of --jobs 2 processes half of --threads 4', async () => {
    const lock = await lockOf(['--threads', '4', '--jobs', '2'], 'jobs');
    assert.equal(lock.backend.threads, 2);
  });

  for (const bad of ['0', 'two', '1.5']) {
    it(`rejects --threads ${bad} as invalid input (exit 2)`, async () => {
      const r = await runCli(['run', recipe, '--threads', bad], dir);
      assert.equal(r.code, 2);
      assert.match(r.stderr, /--threads/);
      assert.match(r.stderr, /expected 'auto' or a whole number >= 1/);
    });
  }

  it('validates --threads on sweep too', async () => {
    const r = await runCli(['sweep', recipe, '--threads', '0'], dir);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /expected 'auto' or a whole number >= 1/);
  });
});
