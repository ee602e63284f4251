// Data-parallel calibration statistics (src/parallel/calibration.ts) against layerStatistics on
// the calling thread: ‖X_i‖², XᵀX and mean gradients of every garment-classifier layer, and of
// the tiny GPT-2's projections, at 2 and 3 worker threads, bit for bit. The first layer's input
// is the data itself, so its norms and Gram matrix are also checked against float64 sums of the
// samples.
import { strict as assert } from 'node:assert';
import * as tf from '@tensorflow/tfjs-core';
import { initBackend } from '../../src/models/backend.js';
import { calibrationStatistics } from '../../src/parallel/calibration.js';
import type { LayerCalibration } from '../../src/plugin-api/calibration.js';
import type { Samples } from '../../src/plugin-api/dataset.js';
import type { PrunableModel } from '../../src/plugin-api/model.js';
import {
  layerStatistics,
  type LayerStatisticsRequest,
} from '../../src/pruning/layer-statistics.js';
import { sliceSamples } from '../../src/data/batches.js';
import { sampleSequences, tinyLms, tokenSplit } from '../icbs/lm/fixtures.js';
import { bits, garmentWorld, withThreads } from './fixtures.js';

function fingerprint(out: Map<string, LayerCalibration>): Record<string, string> {
  return Object.fromEntries(
    [...out].map(([name, c]) => [
      name,
      `${c.rows} ${bits(c.inputNorms)} ${bits(c.gram)} ${bits(c.meanGradient)}`,
    ]),
  );
}

function requests(model: PrunableModel, gramUpTo: number): LayerStatisticsRequest[] {
  return model.operators.map((info) => ({
    info,
    inputNorms: true,
    gram: info.fanIn <= gramUpTo,
    meanGradient: true,
  }));
}

describe('data-parallel calibration statistics', function () {
  this.timeout(120_000);
  before(() => initBackend('wasm'));

  it('gives the garment classifier the single-thread norms, XᵀX and mean gradients bit for bit', async () => {
    const { model, train } = await garmentWorld();
    // 5 batches of 64 and a short one: round-robin over 2 and 3 workers.
    const samples: Samples = sliceSamples(train, 0, 350);
    const req = requests(model, 784);
    const options = { batchSize: 64 };
    const before = tf.memory().numTensors;
    const one = await layerStatistics(model, samples, req, options);
    const want = fingerprint(one);
    for (const threads of [2, 3]) {
      const ticks: number[] = [];
      const par = await withThreads(threads, () =>
        calibrationStatistics(model, samples, req, {
          ...options,
          progress: { tick: (n = 1) => ticks.push(n), update: () => {}, done: () => {} },
        }),
      );
      assert.deepEqual(fingerprint(par), want, `${threads} threads`);
      assert.equal(
        ticks.reduce((a, b) => a + b, 0),
        350,
        'progress ticks once per sample',
      );
    }
    assert.equal(tf.memory().numTensors, before, 'tensors leaked on the calling thread');

    // The first layer multiplies the samples themselves: float64 sums of the data.
    const first = one.get(model.operators[0]?.name ?? '');
    assert.ok(first?.inputNorms !== undefined && first.gram !== undefined);
    const d = 784;
    for (const i of [0, 200, 407, 783]) {
      let sq = 0;
      for (let s = 0; s < samples.count; s++) sq += (samples.x[s * d + i] as number) ** 2;
      assert.ok(
        Math.abs((first.inputNorms[i] as number) - Math.sqrt(sq)) < 1e-4 * (1 + Math.sqrt(sq)),
      );
      for (const j of [3, 407, 600]) {
        let g = 0;
        for (let s = 0; s < samples.count; s++)
          g += (samples.x[s * d + i] as number) * (samples.x[s * d + j] as number);
        assert.ok(
          Math.abs((first.gram[i * d + j] as number) - g) < 1e-3 * (1 + Math.abs(g)),
          `XᵀX[${i}, ${j}]`,
        );
      }
    }
  });

  it('gives the tiny GPT-2 the single-thread statistics bit for bit', async () => {
    const lm = tinyLms()[0];
    assert.ok(lm !== undefined);
    const model = lm.open();
    try {
      const split = tokenSplit('train', sampleSequences(lm, 9, 6, 17));
      const req = requests(model, 1 << 20);
      const options = { batchSize: 2 };
      const want = fingerprint(await layerStatistics(model, split, req, options));
      for (const threads of [2, 3]) {
        const par = await withThreads(threads, () =>
          calibrationStatistics(model, split, req, options),
        );
        assert.deepEqual(fingerprint(par), want, `${threads} threads`);
      }
    } finally {
      model.dispose();
    }
  });
});
