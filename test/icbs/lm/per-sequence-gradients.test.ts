// iCBS's per-sample gradients on causal LMs, where a sample is one sequence: row s of G is the
// gradient of that sequence's MEAN next-token loss, by the outer-product rule summed over its
// positions. Checked against central differences of the float64 reference forward, per sequence,
// at weights where one layer is half pruned (gradients are taken at the current weights).
import { strict as assert } from 'node:assert';
import * as tf from '@tensorflow/tfjs-core';
import { initBackend } from '../../../src/models/backend.js';
import { GradientEngine } from '../../../src/models/per-sample-gradients.js';
import { Rng } from '../../../src/util/rng.js';
import { denseView, finiteDifferenceGradients, tinyLms, tokenSplit } from './fixtures.js';
import { expectArraysClose } from '../../helpers/expect-arrays-close.js';

describe('icbs on causal LMs: per-sequence gradients', () => {
  before(async () => {
    await initBackend('wasm');
  });

  for (const lm of tinyLms()) {
    it(`${lm.name}: rows of G and the mean gradient equal float64 finite differences`, function () {
      this.timeout(20_000);
      const model = lm.open();
      const rng = new Rng(7);
      const ids = Array.from({ length: 3 }, () => Array.from({ length: 6 }, () => rng.int(50)));
      const ops = [model.operators[0], model.operators[3], model.operators[6]].map((o) => {
        if (o === undefined) throw new Error('too few operators');
        return o;
      });
      // The current weights: the first operator with every other weight pruned.
      const views = new Map<string, Float64Array>();
      for (const o of ops) views.set(o.name, denseView(lm, o.name, o.fanIn, o.units));
      const first = views.get(ops[0]!.name)!;
      for (let j = 0; j < first.length; j += 2) first[j] = 0;
      model.writeWeight(ops[0]!.name, Float32Array.from(first));

      const before = tf.memory().numTensors;
      const batch = model.task.batch(tokenSplit('train', ids));
      const grads = new GradientEngine(model).compute(
        batch,
        ops.map((o) => o.name),
      );
      for (const o of ops) {
        const entries = Array.from({ length: 6 }, () => rng.int(o.fanIn * o.units));
        const lg = grads.get(o.name)!;
        assert.equal(lg.method, 'outer');
        const G = lg.blockGradients(Int32Array.from(entries));
        const mean = lg.meanGradient();
        const ref = finiteDifferenceGradients(lm, ids, views, o.name, entries);
        let scale = 0;
        for (const row of ref) for (const v of row) scale = Math.max(scale, Math.abs(v));
        assert.ok(scale > 1e-3, `${o.name}: gradients are not all ~0`);
        const tol = 2e-3 * scale + 1e-6;
        // G is [sequences, entries] row-major, as the reference rows are.
        expectArraysClose(G.data, ref.flat(), tol, `${o.name} per-sequence gradients`);
        const refMean = entries.map((_, e) => ref.reduce((m, row) => m + row[e]! / ref.length, 0));
        expectArraysClose(
          entries.map((j) => mean[j]!),
          refMean,
          tol,
          `${o.name} mean gradient at the entries`,
        );
      }
      for (const g of grads.values()) g.dispose();
      tf.dispose([batch.inputs, batch.targets]);
      assert.equal(tf.memory().numTensors, before, 'tensors leaked');
      model.dispose();
    });
  }
});
