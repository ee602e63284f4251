// How many workers may hold a model's replica (src/parallel/replica.ts replicaWorkers): the thread
// budget, capped so that the copies fit in half of the free memory; below two copies the passes
// stay on the calling thread. replicaBytes counts the float32 variables a replica syncs.
import { strict as assert } from 'node:assert';
import {
  replicaBytes,
  replicaMemoryShare,
  replicaWorkers,
  syncedVariables,
} from '../../src/parallel/replica.js';
import { garmentWorld } from './fixtures.js';

const GiB = 1024 ** 3;

describe('replica memory cap', function () {
  this.timeout(60_000);

  it('gives every thread a replica of a small model', () => {
    assert.equal(replicaWorkers(64, 2.7e6, 20 * GiB), 64);
    assert.equal(replicaWorkers(2, 2.7e6, 20 * GiB), 2);
  });

  it('caps the workers at what fits in the free memory share', () => {
    // A 7B-parameter float32 model (28 GB) on a 64-core machine with 200 GiB free: 3 copies fit.
    const bytes = 7e9 * 4;
    assert.equal(
      replicaWorkers(64, bytes, 200 * GiB),
      Math.floor((replicaMemoryShare * 200 * GiB) / bytes),
    );
    assert.equal(replicaWorkers(64, bytes, 200 * GiB), 3);
    // GPT-2 small (0.5 GB) with 3 GiB free: 3 copies; 24 GiB free: every one of 16 threads.
    assert.equal(replicaWorkers(16, 498e6, 3 * GiB), 3);
    assert.equal(replicaWorkers(16, 498e6, 24 * GiB), 16);
  });

  it('says 1 (no worker threads) when not even two copies fit', () => {
    assert.equal(replicaWorkers(8, 10 * GiB, 30 * GiB), 1);
    assert.equal(replicaWorkers(8, 10 * GiB, 1 * GiB), 1);
  });

  it('counts the garment classifier’s synced float32 variables', async () => {
    const { model } = await garmentWorld();
    // 784·512 + 512 + 512·512 + 512 + 512·10 + 10 parameters of the 784-512-512-10 MLP.
    const params = 784 * 512 + 512 + 512 * 512 + 512 + 512 * 10 + 10;
    assert.equal(
      syncedVariables(model).reduce((a, v) => a + v.size, 0),
      params,
    );
    assert.equal(replicaBytes(model), params * 4);
  });
});
