import { strict as assert } from 'node:assert';
import * as tf from '@tensorflow/tfjs-core';
import { initBackend } from '../../src/models/backend.js';
import { copySlice, installHeapSlice } from '../../src/models/wasm-heap-slice.js';
import { Rng } from '../../src/util/rng.js';

/** The box begin + size of x [shape], element by element from the flat-index formula. */
function sliceByIndex(
  x: ArrayLike<number>,
  shape: readonly number[],
  begin: readonly number[],
  size: readonly number[],
): number[] {
  const out: number[] = [];
  const total = size.reduce((a, b) => a * b, 1);
  for (let k = 0; k < total; k++) {
    // k → multi-index in the box (row-major), then → flat index in x.
    let rest = k;
    let flat = 0;
    let stride = 1;
    const idx = new Array<number>(size.length);
    for (let d = size.length - 1; d >= 0; d--) {
      idx[d] = rest % (size[d] as number);
      rest = Math.floor(rest / (size[d] as number));
    }
    for (let d = shape.length - 1; d >= 0; d--) {
      flat += ((begin[d] as number) + (idx[d] as number)) * stride;
      stride *= shape[d] as number;
    }
    out.push(x[flat] as number);
  }
  return out;
}

describe('wasm Slice reading the heap in place', () => {
  before(async () => {
    await initBackend('wasm');
    installHeapSlice();
  });

  it('copySlice takes the box of every rank 1–5 tensor, edges and empty boxes included', () => {
    const rng = new Rng(5);
    for (let rank = 1; rank <= 5; rank++) {
      for (let trial = 0; trial < 20; trial++) {
        const shape = Array.from({ length: rank }, () => 1 + rng.int(5));
        const begin = shape.map((n) => rng.int(n));
        const size = shape.map((n, d) => rng.int(n - (begin[d] as number) + 1));
        const x = Float32Array.from({ length: shape.reduce((a, b) => a * b, 1) }, (_, i) => i);
        const out = new Float32Array(size.reduce((a, b) => a * b, 1));
        copySlice(x, shape, begin, size, out);
        assert.deepEqual(
          Array.from(out),
          sliceByIndex(x, shape, begin, size),
          `${shape} ${begin} ${size}`,
        );
      }
    }
  });

  it('tf.slice on wasm gives the indexed values for float32 and int32, -1 sizes, without leaking', () => {
    const rng = new Rng(6);
    const shape = [3, 4, 5];
    const values = Array.from({ length: 60 }, () => rng.int(1000) - 500);
    const before = tf.memory().numTensors;
    for (const dtype of ['float32', 'int32'] as const) {
      const x = tf.tensor3d(values, [3, 4, 5], dtype);
      const s = tf.slice(x, [1, 0, 2], [2, -1, 3]);
      assert.equal(s.dtype, dtype);
      assert.deepEqual(s.shape, [2, 4, 3]);
      assert.deepEqual(Array.from(s.dataSync()), sliceByIndex(values, shape, [1, 0, 2], [2, 4, 3]));
      tf.dispose([x, s]);
    }
    assert.equal(tf.memory().numTensors, before);
  });

  it('slices that tf.slice gradients and split rely on still agree', () => {
    const x = tf.tensor2d(
      Array.from({ length: 12 }, (_, i) => i),
      [3, 4],
    );
    const [a, b] = tf.split(x, [1, 3], 1);
    assert.deepEqual(Array.from(a?.dataSync() ?? []), [0, 4, 8]);
    assert.deepEqual(Array.from(b?.dataSync() ?? []), [1, 2, 3, 5, 6, 7, 9, 10, 11]);
    // d/dx Σ slice(x)·c is c inside the box and 0 outside.
    const g = tf.grad((t: tf.Tensor) => tf.sum(tf.mul(tf.slice(t, [1, 1], [2, 2]), 3)))(x);
    assert.deepEqual(Array.from(g.dataSync()), [0, 0, 0, 0, 0, 3, 3, 0, 0, 3, 3, 0]);
    tf.dispose([x, a, b, g].filter((t): t is tf.Tensor => t !== undefined));
  });
});
