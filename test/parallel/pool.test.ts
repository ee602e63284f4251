// The data-parallel pool's life: a process that used it exits by itself (closed or not, also
// when the workers' last replies arrive while it closes), a
// worker that cannot load its replica fails the pass with the loader's ScalpelError, and a closed
// pool refuses work with a clear error.
import { strict as assert } from 'node:assert';
import { spawnSync } from 'node:child_process';
import { rmSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { ScalpelError } from '../../src/errors.js';
import { initBackend } from '../../src/models/backend.js';
import { dataParallelPool, replicaFor } from '../../src/parallel/context.js';
import { evaluateModel } from '../../src/parallel/evaluation.js';
import { DataParallelPool } from '../../src/parallel/pool.js';
import { sampleSequences, tinyLms, tokenSplit } from '../icbs/lm/fixtures.js';
import { withThreads } from './fixtures.js';

const child = fileURLToPath(new URL('./pool-child.js', import.meta.url));

describe('data-parallel pool', function () {
  this.timeout(120_000);
  before(() => initBackend('wasm'));

  for (const mode of ['close', 'leave open', 'release']) {
    it(`lets the process exit by itself (${mode})`, () => {
      const r = spawnSync(process.execPath, [child, mode === 'leave open' ? '' : mode], {
        encoding: 'utf8',
        timeout: 60_000,
      });
      assert.equal(r.signal, null, `the child did not exit by itself: ${r.stderr}`);
      assert.equal(r.status, 0, r.stderr);
      const out = JSON.parse(r.stdout.trim()) as { loss: number; tasks: number };
      assert.ok(Number.isFinite(out.loss));
      // evaluation: 3 shards (one per batch of 2: up to 4 per worker); release: + 2 gradient
      // shards, 2 outer-matrices, 2 mean-rows.
      assert.equal(out.tasks, mode === 'release' ? 9 : 3, 'the shards ran on the workers');
    });
  }

  it('fails the pass with the loader’s ScalpelError when a worker cannot load the replica', async () => {
    const lm = tinyLms()[1];
    assert.ok(lm !== undefined);
    const model = lm.open();
    try {
      const split = tokenSplit('test', sampleSequences(lm, 6, 5, 4));
      await withThreads(2, async () => {
        const pool = dataParallelPool();
        assert.ok(pool !== undefined);
        const replica = await replicaFor(pool, model);
        assert.ok(replica !== undefined);
        rmSync(replica.source.modelPath, { recursive: true, force: true });
        await assert.rejects(evaluateModel(model, split, { batchSize: 2 }), (e: unknown) => {
          assert.ok(e instanceof ScalpelError, String(e));
          assert.ok(['E_IO', 'E_DATA'].includes(e.code), e.code);
          assert.ok(
            e.message.includes(replica.source.modelPath) || e.message.includes('scalpel-replica-'),
            e.message,
          );
          return true;
        });
      });
    } finally {
      model.dispose();
    }
  });

  it('refuses work once closed, with a ScalpelError', async () => {
    const pool = new DataParallelPool(2, 'wasm');
    await pool.close();
    await assert.rejects(pool.run(0, { type: 'release', handle: 1 }), (e: unknown) => {
      assert.ok(e instanceof ScalpelError);
      assert.match(e.message, /data-parallel worker pool is closed/);
      return true;
    });
  });
});
