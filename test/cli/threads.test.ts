// --threads through the real CLI: the data-parallel passes get that many worker threads (default:
// every core), lock.json records the count, --jobs processes share the budget, a bad value is a
// usage error naming the flag, and the threaded wasm build starts only under SCALPEL_WASM_THREADS.
import { strict as assert } from 'node:assert';
import { rmSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import { tempDir } from '../helpers/paths.js';
import { readJson, runCli, runDirOf, writeRecipe } from './cli-helpers.js';

interface Lock {
  backend: { name: string; threads?: number; wasmThreads?: number };
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

  const lockOf = (args: string[], out: string, env?: Record<string, string>): Promise<Lock> =>
    runCli(
      ['run', recipe, '--backend', 'wasm', '--no-cache', '--out', out, ...args],
      dir,
      env,
    ).then((r) => {
      assert.equal(r.code, 0, r.stderr);
      return readJson<Lock>(join(runDirOf(r, dir), 'lock.json'));
    });

  it('records --threads 2 in lock.json, with the single-threaded wasm build', async () => {
    const lock = await lockOf(['--threads', '2'], 'two');
    assert.deepEqual(
      [lock.backend.name, lock.backend.threads, lock.backend.wasmThreads],
      ['wasm', 2, undefined],
    );
  });

  it("takes the recipe's threads: 1 (no worker threads) without the flag", async () => {
    const lock = await lockOf(['--set', 'threads=1'], 'one');
    assert.deepEqual([lock.backend.name, lock.backend.threads], ['wasm', 1]);
  });

  it('defaults to every core (threads: auto)', async () => {
    const lock = await lockOf([], 'default');
    assert.equal(lock.backend.threads, Math.min(64, availableParallelism()));
  });

  it('starts the threaded wasm build only under SCALPEL_WASM_THREADS, recorded apart', async () => {
    const lock = await lockOf(['--threads', '1'], 'wasm-threads', { SCALPEL_WASM_THREADS: '2' });
    assert.deepEqual([lock.backend.threads, lock.backend.wasmThreads], [1, 2]);
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
