// The op classes of bench/wasm-threads.ts, at the shapes scalpel's passes use: square and
// LM-shaped products, attention's batched products, im2col-free conv2d on 28×28 images, softmax
// over attention rows and layer norm as tfjs computes it (moments, then element-wise ops).
// Inputs come from the seeded Rng, so every child process computes on the same numbers.
import * as tf from '@tensorflow/tfjs-core';
import { Rng } from '../../src/util/rng.js';

export interface OpCase {
  readonly name: string;
  /** Timed repetitions (the median is reported). */
  readonly runs: number;
  inputs(): tf.Tensor[];
  run(inputs: readonly tf.Tensor[]): tf.Tensor;
}

function uniform(shape: number[], label: string): tf.Tensor {
  const rng = new Rng(7).fork(label);
  const size = shape.reduce((a, b) => a * b, 1);
  return tf.tensor(
    Float32Array.from({ length: size }, () => 2 * rng.float() - 1),
    shape,
  );
}

function at(inputs: readonly tf.Tensor[], i: number): tf.Tensor {
  const t = inputs[i];
  if (t === undefined) throw new Error(`op case input ${i} missing`);
  return t;
}

// Attention of the bundled GPT-2 at batch 8: 8 × 8 heads = 64 problems, seq 128, head dim 32;
// GPT-2 small at batch 8: 96 problems of seq 128, head dim 64.
const [heads, seq, headDim] = [96, 128, 64];

export function opCases(): OpCase[] {
  return [
    {
      name: 'matMul 1024×1024 · 1024×1024',
      runs: 7,
      inputs: () => [uniform([1024, 1024], 'a'), uniform([1024, 1024], 'b')],
      run: (x) => tf.matMul(at(x, 0) as tf.Tensor2D, at(x, 1) as tf.Tensor2D),
    },
    {
      name: 'matMul 256×768 · 768×3072 (LM MLP)',
      runs: 11,
      inputs: () => [uniform([256, 768], 'a'), uniform([768, 3072], 'b')],
      run: (x) => tf.matMul(at(x, 0) as tf.Tensor2D, at(x, 1) as tf.Tensor2D),
    },
    {
      name: `batched matMul ${heads}×(${seq}×${headDim} · ${headDim}×${seq}) (QKᵀ)`,
      runs: 11,
      inputs: () => [uniform([heads, seq, headDim], 'q'), uniform([heads, seq, headDim], 'k')],
      run: (x) => tf.matMul(at(x, 0) as tf.Tensor3D, at(x, 1) as tf.Tensor3D, false, true),
    },
    {
      name: `batched matMul ${heads}×(${seq}×${seq} · ${seq}×${headDim}) (P·V)`,
      runs: 11,
      inputs: () => [uniform([heads, seq, seq], 'p'), uniform([heads, seq, headDim], 'v')],
      run: (x) => tf.matMul(at(x, 0) as tf.Tensor3D, at(x, 1) as tf.Tensor3D),
    },
    {
      name: 'conv2d 64×28×28×16 → 32, 3×3 same',
      runs: 7,
      inputs: () => [uniform([64, 28, 28, 16], 'x'), uniform([3, 3, 16, 32], 'w')],
      run: (x) => tf.conv2d(at(x, 0) as tf.Tensor4D, at(x, 1) as tf.Tensor4D, 1, 'same'),
    },
    {
      name: 'conv2d 64×28×28×32 → 64, 3×3 same',
      runs: 7,
      inputs: () => [uniform([64, 28, 28, 32], 'x'), uniform([3, 3, 32, 64], 'w')],
      run: (x) => tf.conv2d(at(x, 0) as tf.Tensor4D, at(x, 1) as tf.Tensor4D, 1, 'same'),
    },
    {
      name: `softmax ${heads * seq}×${seq} (attention rows)`,
      runs: 11,
      inputs: () => [uniform([heads * seq, seq], 's')],
      run: (x) => tf.softmax(at(x, 0)),
    },
    {
      name: 'layer norm 2048×768 (moments + element-wise)',
      runs: 11,
      inputs: () => [uniform([2048, 768], 'h')],
      run: (x) =>
        tf.tidy(() => {
          const { mean, variance } = tf.moments(at(x, 0), -1, true);
          return tf.div(tf.sub(at(x, 0), mean), tf.sqrt(tf.add(variance, 1e-5)));
        }),
    },
    {
      name: 'element-wise add 2048×3072',
      runs: 11,
      inputs: () => [uniform([2048, 3072], 'a'), uniform([2048, 3072], 'b')],
      run: (x) => tf.add(at(x, 0), at(x, 1)),
    },
  ];
}
