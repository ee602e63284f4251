import { strict as assert } from 'node:assert';
import * as tf from '@tensorflow/tfjs-core';
import { initBackend } from '../../../src/models/backend.js';
import { clipByGlobalNorm, globalNorm } from '../../../src/models/training/clip.js';
import { Rng } from '../../../src/util/rng.js';

function norm64(arrays: ArrayLike<number>[]): number {
  let s = 0;
  for (const a of arrays) for (let i = 0; i < a.length; i++) s += (a[i] as number) ** 2;
  return Math.sqrt(s);
}

describe('gradient clipping by global norm', () => {
  before(async () => {
    await initBackend('wasm');
  });

  const rng = new Rng(21);
  const values = [6, 3, 10].map((n) => Float32Array.from({ length: n }, () => 4 * rng.normal()));
  const make = (): tf.NamedTensorMap => ({
    a: tf.tensor2d(values[0] as Float32Array, [2, 3]),
    b: tf.tensor1d(values[1] as Float32Array),
    c: tf.tensor2d(values[2] as Float32Array, [5, 2]),
  });
  const expectedNorm = norm64(values);

  it('scales every gradient by maxNorm/‖g‖ when above the threshold and reports the norm before', () => {
    const before = tf.memory().numTensors;
    const grads = make();
    const maxNorm = expectedNorm / 3;
    const out = clipByGlobalNorm(grads, maxNorm);
    assert.ok(out.clipped);
    assert.ok(
      Math.abs(out.norm - expectedNorm) <= 1e-6 * expectedNorm,
      `norm ${out.norm} vs ${expectedNorm}`,
    );
    assert.ok(
      Object.values(grads).every((g) => g.isDisposed),
      'the inputs are consumed',
    );
    const clipped = ['a', 'b', 'c'].map((k) => (out.grads[k] as tf.Tensor).dataSync());
    assert.ok(
      Math.abs(norm64(clipped) - maxNorm) <= 1e-6 * maxNorm,
      `norm after ${norm64(clipped)} vs ${maxNorm}`,
    );
    clipped.forEach((c, t) =>
      c.forEach((x, i) => {
        const e = ((values[t] as Float32Array)[i] as number) * (maxNorm / expectedNorm);
        assert.ok(Math.abs(x - e) <= 1e-6 * Math.max(1, Math.abs(e)), `tensor ${t}[${i}]`);
      }),
    );
    tf.dispose(Object.values(out.grads));
    assert.equal(tf.memory().numTensors, before);
  });

  it('is a no-op at or below the threshold: the same tensors, unchanged', () => {
    const grads = make();
    const out = clipByGlobalNorm(grads, expectedNorm * 1.01);
    assert.equal(out.clipped, false);
    assert.equal(out.grads, grads);
    assert.ok(Math.abs(out.norm - expectedNorm) <= 1e-6 * expectedNorm);
    ['a', 'b', 'c'].forEach((k, t) => {
      const got = (out.grads[k] as tf.Tensor).dataSync();
      got.forEach((x, i) => assert.ok(Object.is(x, (values[t] as Float32Array)[i])));
    });
    assert.ok(Math.abs(globalNorm(grads) - expectedNorm) <= 1e-6 * expectedNorm);
    tf.dispose(Object.values(grads));
  });

  it('skips the null entries tf.variableGrads gives non-trainable variables', () => {
    const g = tf.tensor1d([3, 4]);
    const grads = { g, frozen: null } as unknown as tf.NamedTensorMap;
    assert.equal(globalNorm(grads), 5);
    const out = clipByGlobalNorm(grads, 1);
    assert.deepEqual(
      [...(out.grads.g as tf.Tensor).dataSync()].map((x) => Math.round(x * 1e6) / 1e6),
      [0.6, 0.8],
    );
    tf.dispose(Object.values(out.grads));
  });
});
