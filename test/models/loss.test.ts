import { strict as assert } from 'node:assert';
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { initBackend } from '../../src/models/backend.js';
import { meanLoss, perSampleLoss } from '../../src/models/loss.js';
import { asPrunable } from '../helpers/models.js';
import { Rng } from '../../src/util/rng.js';
import { expectArraysClose } from '../helpers/expect-arrays-close.js';

describe('loss', () => {
  before(async () => {
    await initBackend('wasm');
  });

  it('per-sample cross-entropy equals float64 −log softmax, from logits and from probabilities alike', () => {
    const rng = new Rng(4);
    const [n, c] = [6, 5];
    const logits = Float32Array.from({ length: n * c }, () => 3 * rng.normal());
    const labels = Int32Array.from({ length: n }, () => rng.int(c));
    const expected = [...labels].map((label, s) => {
      const z = Array.from(logits.subarray(s * c, (s + 1) * c));
      const max = Math.max(...z);
      return max + Math.log(z.reduce((a, v) => a + Math.exp(v - max), 0)) - (z[label] as number);
    });
    const before = tf.memory().numTensors;
    const z = tf.tensor2d(logits, [n, c]);
    const y = tf.tensor1d(labels, 'int32');
    const p = tf.softmax(z);
    const outs = [perSampleLoss(z, y), perSampleLoss(p, y, 'probabilities'), meanLoss(z, y)];
    const [fromLogits, fromProbs, meanT] = outs.map((t) => t.dataSync());
    const mean = meanT?.[0] as number;
    expectArraysClose(fromLogits!, expected, 1e-5, 'from logits');
    expectArraysClose(fromProbs!, expected, 1e-4, 'from probabilities');
    assert.ok(Math.abs(mean - expected.reduce((a, b) => a + b, 0) / n) < 1e-5);
    tf.dispose([z, y, p, ...outs]);
    assert.equal(tf.memory().numTensors, before);
  });

  it('tells logits from softmax outputs by the last layer', () => {
    const a = tfl.sequential({ layers: [tfl.layers.dense({ inputShape: [3], units: 2 })] });
    const b = tfl.sequential({
      layers: [tfl.layers.dense({ inputShape: [3], units: 2, activation: 'softmax' })],
    });
    assert.equal(asPrunable(a).task.outputKind, 'logits');
    assert.equal(asPrunable(b).task.outputKind, 'probabilities');
    a.dispose();
    b.dispose();
  });
});
