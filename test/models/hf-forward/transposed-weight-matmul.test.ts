// x·wᵀ for a weight stored [units, fanIn], by either formulation matMulTransposedWeight picks (few
// rows: x and the result are transposed; many rows: w is), and its gradients, against float64
// products written out here.
import { strict as assert } from 'node:assert';
import * as tf from '@tensorflow/tfjs-core';
import { initBackend } from '../../../src/models/backend.js';
import { matMulTransposedWeight, matMulWeight } from '../../../src/models/hf/transformer-ops.js';
import { Rng } from '../../../src/util/rng.js';
import { maxDiff } from './harness.js';

/** (a·bᵀ) for a [n, k], b [m, k], row-major, float64. */
function abT(a: Float32Array, b: Float32Array, n: number, m: number, k: number): Float64Array {
  const out = new Float64Array(n * m);
  for (let i = 0; i < n; i++)
    for (let j = 0; j < m; j++) {
      let s = 0;
      for (let p = 0; p < k; p++) s += (a[i * k + p] as number) * (b[j * k + p] as number);
      out[i * m + j] = s;
    }
  return out;
}

describe('hf-forward: x·wᵀ with a transposed weight', () => {
  before(async () => {
    await initBackend('wasm');
  });

  // [fanIn, units] = [8, 40]: 2 rows move 96 values against w's 320; 30 rows move 1440.
  for (const rows of [2, 30]) {
    it(`${rows} rows: product and gradients match float64`, () => {
      const [fanIn, units] = [8, 40];
      const rng = new Rng(rows);
      const xv = Float32Array.from({ length: rows * fanIn }, () => rng.normal());
      const wv = Float32Array.from({ length: units * fanIn }, () => rng.normal());
      const gv = Float32Array.from({ length: rows * units }, () => rng.normal());
      const before = tf.memory().numTensors;
      const [z, dx, dw] = tf.tidy(() => {
        const x = tf.tensor2d(xv, [rows, fanIn]);
        const w = tf.tensor2d(wv, [units, fanIn]);
        const g = tf.tensor2d(gv, [rows, units]);
        const f = (a: tf.Tensor, b: tf.Tensor): tf.Tensor =>
          matMulTransposedWeight(a as tf.Tensor2D, b as tf.Tensor2D);
        const [gx, gw] = tf.grads((a: tf.Tensor, b: tf.Tensor) => tf.sum(tf.mul(f(a, b), g)))([
          x,
          w,
        ]);
        return [f(x, w).dataSync(), gx?.dataSync(), gw?.dataSync()];
      });
      assert.equal(tf.memory().numTensors, before, 'no tensors leak');
      assert.ok(maxDiff(z as Float32Array, abT(xv, wv, rows, units, fanIn)) < 1e-4, 'x·wᵀ');
      // dL/dx = g·w = g·(wᵀ)ᵀ, dL/dw = gᵀ·x
      const wT = new Float32Array(fanIn * units);
      for (let u = 0; u < units; u++)
        for (let i = 0; i < fanIn; i++) wT[i * units + u] = wv[u * fanIn + i] as number;
      assert.ok(maxDiff(dx as Float32Array, abT(gv, wT, rows, fanIn, units)) < 1e-4, 'dx');
      const gT = new Float32Array(units * rows);
      const xT = new Float32Array(fanIn * rows);
      for (let r = 0; r < rows; r++) {
        for (let u = 0; u < units; u++) gT[u * rows + r] = gv[r * units + u] as number;
        for (let i = 0; i < fanIn; i++) xT[i * rows + r] = xv[r * fanIn + i] as number;
      }
      assert.ok(maxDiff(dw as Float32Array, abT(gT, xT, units, fanIn, rows)) < 1e-4, 'dw');
    });
  }
});

describe('hf-forward: x·w with a weight stored [fanIn, units]', () => {
  before(async () => {
    await initBackend('wasm');
  });

  // [fanIn, units] = [8, 40]: 2 rows move 96 values against w's 320 (w becomes the left operand).
  for (const rows of [2, 30]) {
    it(`${rows} rows: product and input gradient match float64`, () => {
      const [fanIn, units] = [8, 40];
      const rng = new Rng(100 + rows);
      const xv = Float32Array.from({ length: rows * fanIn }, () => rng.normal());
      const wv = Float32Array.from({ length: fanIn * units }, () => rng.normal());
      const gv = Float32Array.from({ length: rows * units }, () => rng.normal());
      // w [fanIn, units] as the [units, fanIn] matrix abT expects.
      const wT = new Float32Array(units * fanIn);
      for (let i = 0; i < fanIn; i++)
        for (let u = 0; u < units; u++) wT[u * fanIn + i] = wv[i * units + u] as number;
      const before = tf.memory().numTensors;
      const [z, dx] = tf.tidy(() => {
        const x = tf.tensor2d(xv, [rows, fanIn]);
        const w = tf.tensor2d(wv, [fanIn, units]);
        const g = tf.tensor2d(gv, [rows, units]);
        const f = (a: tf.Tensor): tf.Tensor => matMulWeight(a as tf.Tensor2D, w);
        const gx = tf.grad((a: tf.Tensor) => tf.sum(tf.mul(f(a), g)))(x);
        return [f(x).dataSync(), gx.dataSync()];
      });
      assert.equal(tf.memory().numTensors, before, 'no tensors leak');
      assert.ok(maxDiff(z as Float32Array, abT(xv, wT, rows, units, fanIn)) < 1e-4, 'x·w');
      // dL/dx = g·wᵀ
      assert.ok(maxDiff(dx as Float32Array, abT(gv, wv, rows, fanIn, units)) < 1e-4, 'dx');
    });
  }

  // 30 rows would take the plain product; weightLeft (passes without weight gradients) makes w
  // the left operand anyway, so XNNPACK caches no packed copy of it — with the same bits.
  it('weightLeft at many rows: the plain product bit for bit, and float64 within rounding', async () => {
    const [rows, fanIn, units] = [30, 8, 40];
    const rng = new Rng(7);
    const xv = Float32Array.from({ length: rows * fanIn }, () => rng.normal());
    const wv = Float32Array.from({ length: fanIn * units }, () => rng.normal());
    const wT = new Float32Array(units * fanIn);
    for (let i = 0; i < fanIn; i++)
      for (let u = 0; u < units; u++) wT[u * fanIn + i] = wv[i * units + u] as number;
    const before = tf.memory().numTensors;
    const [plain, left] = tf.tidy(() => {
      const x = tf.tensor2d(xv, [rows, fanIn]);
      const w = tf.tensor2d(wv, [fanIn, units]);
      return [tf.matMul(x, w).dataSync(), matMulWeight(x, w, true).dataSync()];
    });
    assert.equal(tf.memory().numTensors, before, 'no tensors leak');
    assert.deepEqual(left, plain);
    // The product really was (wᵀ·xᵀ)ᵀ: transposes around it, w never the right operand.
    const x = tf.tensor2d(xv, [rows, fanIn]);
    const w = tf.tensor2d(wv, [fanIn, units]);
    // (tf.profile hands back one reused object: read its fields before profiling again.)
    const kernels = async (f: () => tf.Tensor): Promise<string[]> => {
      const info = await tf.profile(f);
      tf.dispose(info.result as tf.Tensor);
      return info.kernelNames;
    };
    const leftKernels = await kernels(() => matMulWeight(x, w, true));
    const plainKernels = await kernels(() => matMulWeight(x, w));
    tf.dispose([x, w]);
    assert.ok(leftKernels.includes('Transpose'), leftKernels.join(', '));
    assert.ok(!plainKernels.includes('Transpose'), plainKernels.join(', '));
    assert.ok(maxDiff(left as Float32Array, abT(xv, wT, rows, units, fanIn)) < 1e-4, 'x·w');
  });
});
