// conv2dWithGradients (the convolution with its own gradients that conv training on wasm uses)
// against a float64 convolution written here from the definition, and against the former
// im2col × kernel path differentiated by tfjs, on wasm and cpu: the value, ∂/∂x and ∂/∂kernel of
// L = Σ R ⊙ conv2d(x, kernel) for a fixed random R.
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs-core';
import { initBackend } from '../../src/models/backend.js';
import {
  conv2dWithGradients,
  type ConvGeometry,
} from '../../src/models/tfjs-layers/conv-with-gradients.js';
import { im2col } from '../../src/models/tfjs-layers/im2col.js';
import { Rng } from '../../src/util/rng.js';
import { expectArraysClose } from '../helpers/expect-arrays-close.js';

interface Case {
  readonly x: [number, number, number, number];
  readonly k: [number, number, number, number];
  readonly g: ConvGeometry;
}

const cases: Case[] = [];
for (const padding of ['same', 'valid'] as const) {
  for (const strides of [
    [1, 1],
    [2, 2],
    [2, 1],
  ] as const) {
    // Non-square kernel, odd and even sizes, cin and cout > 1.
    cases.push({ x: [2, 7, 6, 2], k: [2, 3, 2, 3], g: { strides, padding } });
  }
  // A 1×1 strided projection, and stride 3 with input rows no 'valid' output reads.
  cases.push({ x: [2, 7, 7, 3], k: [1, 1, 3, 4], g: { strides: [2, 2], padding } });
  cases.push({ x: [1, 8, 8, 2], k: [3, 3, 2, 2], g: { strides: [3, 3], padding } });
}

/** Output height and width (TensorFlow's conventions). */
function outDims(c: Case): [number, number] {
  const [, h, w] = c.x;
  const [kh, kw] = c.k;
  const [sh, sw] = c.g.strides;
  return c.g.padding === 'same'
    ? [Math.ceil(h / sh), Math.ceil(w / sw)]
    : [Math.floor((h - kh) / sh) + 1, Math.floor((w - kw) / sw) + 1];
}

/** y, ∂L/∂x and ∂L/∂W in float64 for L = Σ r·conv2d(x, w), straight from the definition. */
function reference(
  c: Case,
  x: Float32Array,
  w: Float32Array,
  r: Float32Array,
): { y: Float64Array; dx: Float64Array; dw: Float64Array } {
  const [n, h, wd, cin] = c.x;
  const [kh, kw, , cout] = c.k;
  const [sh, sw] = c.g.strides;
  const same = c.g.padding === 'same';
  const [oh, ow] = outDims(c);
  // TensorFlow's 'same': total padding max((o − 1)·s + k − n, 0), the odd one at the end.
  const top = same ? Math.floor(Math.max((oh - 1) * sh + kh - h, 0) / 2) : 0;
  const left = same ? Math.floor(Math.max((ow - 1) * sw + kw - wd, 0) / 2) : 0;
  const y = new Float64Array(n * oh * ow * cout);
  const dx = new Float64Array(x.length);
  const dw = new Float64Array(w.length);
  for (let b = 0; b < n; b++)
    for (let p = 0; p < oh; p++)
      for (let q = 0; q < ow; q++)
        for (let i = 0; i < kh; i++)
          for (let j = 0; j < kw; j++) {
            const a = p * sh + i - top;
            const e = q * sw + j - left;
            if (a < 0 || a >= h || e < 0 || e >= wd) continue;
            for (let ci = 0; ci < cin; ci++) {
              const xi = ((b * h + a) * wd + e) * cin + ci;
              for (let co = 0; co < cout; co++) {
                const wi = ((i * kw + j) * cin + ci) * cout + co;
                const yi = ((b * oh + p) * ow + q) * cout + co;
                y[yi] = (y[yi] as number) + (x[xi] as number) * (w[wi] as number);
                dw[wi] = (dw[wi] as number) + (x[xi] as number) * (r[yi] as number);
                dx[xi] = (dx[xi] as number) + (w[wi] as number) * (r[yi] as number);
              }
            }
          }
  return { y, dx, dw };
}

/** The former path: im2col(x) × kernel, differentiated by tfjs through the slices. */
function im2colConv(
  x: tf.Tensor4D,
  w: tf.Tensor4D,
  g: ConvGeometry,
  outShape: number[],
): tf.Tensor {
  const [kh, kw, cin, cout] = w.shape;
  const cols = im2col(x, kh, kw, { strides: [...g.strides], padding: g.padding });
  return tf.reshape(tf.matMul(cols, tf.reshape(w, [kh * kw * cin, cout])), outShape);
}

function random(rng: Rng, n: number): Float32Array {
  return Float32Array.from({ length: n }, () => rng.normal());
}

describe('conv2dWithGradients', () => {
  after(async () => {
    await tf.setBackend('wasm');
  });

  for (const backend of ['wasm', 'cpu'] as const) {
    describe(`on ${backend}`, () => {
      before(async () => {
        await initBackend(backend);
      });

      for (const c of cases) {
        const label = `kernel ${c.k.join('×')}, input ${c.x.join('×')}, strides ${c.g.strides.join(',')}, ${c.g.padding}`;
        it(`${label}: value and both gradients match float64 and the im2col path`, () => {
          const rng = new Rng(11);
          const xs = random(
            rng,
            c.x.reduce((a, b) => a * b, 1),
          );
          const ws = random(
            rng,
            c.k.reduce((a, b) => a * b, 1),
          );
          const outShape = [c.x[0], ...outDims(c), c.k[3]];
          const rs = random(
            rng,
            outShape.reduce((a, b) => a * b, 1),
          );
          const ref = reference(c, xs, ws, rs);
          const before = tf.memory().numTensors;
          const x = tf.tensor4d(xs, c.x);
          const w = tf.tensor4d(ws, c.k);
          const r = tf.tensor(rs, outShape);
          const lossOf =
            (conv: (a: tf.Tensor4D, b: tf.Tensor4D) => tf.Tensor) =>
            (a: tf.Tensor, b: tf.Tensor): tf.Scalar =>
              tf.sum(tf.mul(conv(a as tf.Tensor4D, b as tf.Tensor4D), r));
          const fast = (a: tf.Tensor4D, b: tf.Tensor4D) => conv2dWithGradients(a, b, c.g, true);
          const old = (a: tf.Tensor4D, b: tf.Tensor4D) => im2colConv(a, b, c.g, outShape);
          const y = fast(x, w);
          assert.deepEqual(y.shape, outShape);
          const [dx, dw] = tf.grads(lossOf(fast))([x, w]) as [tf.Tensor, tf.Tensor];
          const [dxOld, dwOld] = tf.grads(lossOf(old))([x, w]) as [tf.Tensor, tf.Tensor];
          // Only ∂/∂x: the kernel a constant.
          const [dxOnly] = tf.grads((a: tf.Tensor) =>
            tf.sum(tf.mul(conv2dWithGradients(a as tf.Tensor4D, w, c.g, false), r)),
          )([x]) as [tf.Tensor];
          const tol = { atol: 1e-4, rtol: 1e-4 };
          expectArraysClose(y.dataSync(), ref.y, tol, 'value');
          expectArraysClose(dx.dataSync(), ref.dx, tol, '∂L/∂x');
          expectArraysClose(dw.dataSync(), ref.dw, tol, '∂L/∂kernel');
          expectArraysClose(dxOnly.dataSync(), ref.dx, tol, '∂L/∂x, kernel constant');
          expectArraysClose(dx.dataSync(), dxOld.dataSync(), tol, '∂L/∂x vs im2col');
          expectArraysClose(dw.dataSync(), dwOld.dataSync(), tol, '∂L/∂kernel vs im2col');
          tf.dispose([x, w, r, y, dx, dw, dxOld, dwOld, dxOnly]);
          assert.equal(tf.memory().numTensors, before, 'no leaked tensors');
        });
      }
    });
  }
});
