import { strict as assert } from 'node:assert';
import * as tf from '@tensorflow/tfjs-core';
import { initBackend } from '../../src/models/backend.js';
import { installFastTransposedMatMul } from '../../src/models/wasm-transposed-matmul.js';
import { Rng } from '../../src/util/rng.js';
import { expectArraysClose } from '../helpers/expect-arrays-close.js';

/** C = op(A)·op(B) in float64 from row-major arrays. */
function matMul64(
  a: Float32Array,
  b: Float32Array,
  m: number,
  k: number,
  n: number,
  ta: boolean,
  tb: boolean,
): Float64Array {
  const c = new Float64Array(m * n);
  for (let i = 0; i < m; i++) {
    for (let j = 0; j < n; j++) {
      let s = 0;
      for (let p = 0; p < k; p++)
        s +=
          (ta ? (a[p * m + i] as number) : (a[i * k + p] as number)) *
          (tb ? (b[j * k + p] as number) : (b[p * n + j] as number));
      c[i * n + j] = s;
    }
  }
  return c;
}

describe('wasm BatchMatMul with transposed operands', () => {
  before(async () => {
    await initBackend('wasm');
    installFastTransposedMatMul();
  });

  it('equals a float64 product for every transpose combination, batched too, without leaking', () => {
    const rng = new Rng(2);
    const [m, k, n] = [7, 13, 5];
    for (const [ta, tb] of [
      [false, false],
      [true, false],
      [false, true],
      [true, true],
    ] as const) {
      const a = Float32Array.from({ length: m * k }, () => rng.normal());
      const b = Float32Array.from({ length: k * n }, () => rng.normal());
      const before = tf.memory().numTensors;
      const at = tf.tensor2d(a, ta ? [k, m] : [m, k]);
      const bt = tf.tensor2d(b, tb ? [n, k] : [k, n]);
      const c = tf.matMul(at, bt, ta, tb);
      const expected = matMul64(a, b, m, k, n, ta, tb);
      const got = c.dataSync();
      assert.deepEqual(c.shape, [m, n]);
      expectArraysClose(got, expected, 1e-4, `ta=${ta} tb=${tb}`);
      tf.dispose([at, bt, c]);
      assert.equal(tf.memory().numTensors, before);
    }
    // Batched (rank 3): transposes swap the last two axes only.
    const a3 = tf.randomNormal([3, 4, 6], 0, 1, 'float32', 1);
    const b3 = tf.randomNormal([3, 5, 6], 0, 1, 'float32', 2);
    const fast = tf.matMul(a3, b3, false, true);
    const plain = tf.matMul(a3, tf.transpose(b3, [0, 2, 1]));
    assert.deepEqual(Array.from(fast.dataSync()), Array.from(plain.dataSync()));
    tf.dispose([a3, b3, fast, plain]);
  });
});
