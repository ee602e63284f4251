// Data-parallel per-sample gradients (src/parallel/gradients.ts) against GradientEngine on the
// calling thread: iCBS's G (rows of a block's per-sample gradients) and the mean gradient, for
// every layer of the garment classifier and for projections of the tiny GPT-2 and Llama, at 2 and
// 3 worker threads, bit for bit; G of the LMs also against float64 central differences of the
// reference model; handles released (no tensors left behind on the calling thread).
import { strict as assert } from 'node:assert';
import * as tf from '@tensorflow/tfjs-core';
import { disposeBatch, sliceSamples } from '../../src/data/batches.js';
import { initBackend } from '../../src/models/backend.js';
import { GradientEngine, type BlockGradients } from '../../src/models/per-sample-gradients.js';
import { ParallelGradients, type ShardedLayerGradients } from '../../src/parallel/gradients.js';
import type { PrunableModel } from '../../src/plugin-api/model.js';
import type { Batch } from '../../src/plugin-api/task.js';
import { Rng } from '../../src/util/rng.js';
import {
  denseView,
  finiteDifferenceGradients,
  sampleSequences,
  tinyLms,
  tokenSplit,
} from '../icbs/lm/fixtures.js';
import { bits, garmentWorld, withThreads } from './fixtures.js';

function someEntries(count: number, n: number, seed: number): Int32Array {
  const rng = new Rng(seed);
  return Int32Array.from(rng.permutation(count).subarray(0, n));
}

interface Fingerprint {
  G: string;
  mean: string;
}

function singleThread(
  model: PrunableModel,
  batch: Batch,
  layer: string,
  block: Int32Array,
): Fingerprint & { data: Float32Array } {
  const g = new GradientEngine(model).compute(batch, [layer]).get(layer);
  assert.ok(g !== undefined && g.method === 'outer');
  try {
    const G = g.blockGradients(block);
    return { G: bits(G.data), mean: bits(g.meanGradient()), data: G.data };
  } finally {
    g.dispose();
  }
}

async function parallel(
  model: PrunableModel,
  batch: Batch,
  layer: string,
  block: Int32Array,
): Promise<Fingerprint> {
  const pg = await ParallelGradients.create(model, { minWork: 0 });
  assert.ok(pg !== undefined, 'no worker threads');
  const g = await pg.compute(batch, layer);
  assert.ok(g !== undefined, `${layer} was not split over the workers`);
  try {
    const G = await g.blockGradients(block);
    assert.equal(G.samples, batch.count);
    assert.equal(G.entries, block.length);
    return { G: bits(G.data), mean: bits(await g.meanGradient()) };
  } finally {
    g.dispose();
  }
}

describe('data-parallel per-sample gradients', function () {
  this.timeout(120_000);
  before(() => initBackend('wasm'));

  it('gives every garment-classifier layer the single-thread G and mean gradient bit for bit', async () => {
    const { model, train } = await garmentWorld();
    // 61 samples: shards of 31 + 30 (2 threads) and 21 + 20 + 20 (3 threads).
    const before = tf.memory().numTensors;
    const batch = model.task.batch(sliceSamples(train, 0, 61));
    try {
      for (const [i, op] of model.operators.entries()) {
        const block = someEntries(op.paramCount, 300, i + 1);
        const one = singleThread(model, batch, op.name, block);
        for (const threads of [2, 3]) {
          const par = await withThreads(threads, () => parallel(model, batch, op.name, block));
          assert.deepEqual(par, { G: one.G, mean: one.mean }, `${op.name}, ${threads} threads`);
        }
        // An independent check of G for the first layer: its input is the sample itself, and
        // Σ_s G[s, b] over the batch is N × the mean gradient of the same entry.
        if (i === 0) {
          const g = new GradientEngine(model).compute(batch, [op.name]).get(op.name);
          const mean = g?.meanGradient() ?? new Float32Array();
          g?.dispose();
          for (let b = 0; b < 20; b++) {
            let s = 0;
            for (let k = 0; k < batch.count; k++) s += one.data[k * block.length + b] as number;
            const want = (mean[block[b] as number] as number) * batch.count;
            assert.ok(
              Math.abs(s - want) <= 1e-4 * (1 + Math.abs(want)),
              `entry ${b}: ${s} vs ${want}`,
            );
          }
        }
      }
    } finally {
      disposeBatch(batch);
    }
    assert.equal(tf.memory().numTensors, before, 'tensors leaked on the calling thread');
  });

  it('follows iCBS-style weight writes between steps (a new version per change)', async () => {
    const { model, train } = await garmentWorld();
    const op = model.operators[1];
    assert.ok(op !== undefined);
    const dense = model.readWeight(op.name);
    const batch = model.task.batch(sliceSamples(train, 100, 160));
    const block = someEntries(op.paramCount, 200, 9);
    try {
      await withThreads(2, async () => {
        const pg = await ParallelGradients.create(model, { minWork: 0 });
        assert.ok(pg !== undefined);
        for (let step = 0; step < 3; step++) {
          const w = model.readWeight(op.name);
          for (let j = step; j < w.length; j += 7) w[j] = 0;
          model.writeWeight(op.name, w);
          const one = singleThread(model, batch, op.name, block);
          const g: ShardedLayerGradients | undefined = await pg.compute(batch, op.name);
          assert.ok(g !== undefined);
          const G: BlockGradients = await g.blockGradients(block);
          g.dispose();
          assert.equal(bits(G.data), one.G, `step ${step}`);
        }
      });
    } finally {
      model.writeWeight(op.name, dense);
      disposeBatch(batch);
    }
  });

  for (const lm of tinyLms()) {
    it(`gives the tiny ${lm.name}'s per-sequence gradients bit for bit, and as float64 central differences`, async () => {
      const ids = sampleSequences(lm, 7, 6, 21);
      const split = tokenSplit('train', ids);
      const model = lm.open();
      const batch = model.task.batch(split);
      try {
        for (const op of [model.operators[0], model.operators[model.operators.length - 1]]) {
          assert.ok(op !== undefined);
          const block = someEntries(op.paramCount, 40, 3);
          const one = singleThread(model, batch, op.name, block);
          for (const threads of [2, 3]) {
            const par: Fingerprint = await withThreads(threads, () =>
              parallel(model, batch, op.name, block),
            );
            assert.deepEqual(par, { G: one.G, mean: one.mean }, `${op.name}, ${threads} threads`);
          }
          // float64 reference for a few entries (central differences of the reference model).
          const views = new Map(
            model.operators.map((o) => [o.name, denseView(lm, o.name, o.fanIn, o.units)]),
          );
          const entries = Array.from(block.subarray(0, 4));
          const fd = finiteDifferenceGradients(lm, ids, views, op.name, entries);
          fd.forEach((row, s) =>
            row.forEach((want, e) => {
              const got = one.data[s * block.length + e] as number;
              assert.ok(
                Math.abs(got - want) <= 2e-4 + 2e-3 * Math.abs(want),
                `${op.name} sequence ${s} entry ${e}: ${got} vs ${want}`,
              );
            }),
          );
        }
      } finally {
        disposeBatch(batch);
        model.dispose();
      }
    });
  }
});
