// Child process of wasm-threads.test.ts (not a test itself): initialises the wasm backend with
// the thread count given as argv[2] (a wasm module keeps its thread count for life, hence one
// process per count), computes matMul, batched matMul, conv2d, softmax and layer-norm moments on
// seeded inputs and prints the inputs, the outputs and what the backend reports, as one JSON line.
// The process must exit on its own: pthread workers left referenced would keep it alive.
import * as tf from '@tensorflow/tfjs-core';
import { initBackend } from '../../src/models/backend.js';
import { Rng } from '../../src/util/rng.js';

interface Case {
  readonly name: string;
  readonly shapes: number[][];
  run(xs: tf.Tensor[]): tf.Tensor;
}

const cases: Case[] = [
  {
    name: 'matMul',
    shapes: [
      [67, 45],
      [45, 53],
    ],
    run: ([a, b]) => tf.matMul(a as tf.Tensor2D, b as tf.Tensor2D),
  },
  {
    name: 'batchMatMulTransposedB',
    shapes: [
      [6, 19, 8],
      [6, 21, 8],
    ],
    run: ([a, b]) => tf.matMul(a as tf.Tensor3D, b as tf.Tensor3D, false, true),
  },
  {
    name: 'conv2d',
    shapes: [
      [2, 9, 9, 3],
      [3, 3, 3, 5],
    ],
    run: ([x, w]) => tf.conv2d(x as tf.Tensor4D, w as tf.Tensor4D, 1, 'same'),
  },
  { name: 'softmax', shapes: [[37, 23]], run: ([x]) => tf.softmax(x as tf.Tensor2D) },
  {
    name: 'moments',
    shapes: [[29, 31]],
    run: ([x]) => {
      const { mean, variance } = tf.moments(x as tf.Tensor2D, -1);
      return tf.stack([mean, variance]);
    },
  },
];

const threads = Number(process.argv[2]);
const info = await initBackend('wasm', threads);
const before = tf.memory().numTensors;
const rng = new Rng(11);
const results = cases.map((c) => {
  const inputs = c.shapes.map((s) =>
    Array.from({ length: s.reduce((a, b) => a * b, 1) }, () => Math.fround(2 * rng.float() - 1)),
  );
  const out = tf.tidy(() => {
    const r = c.run(inputs.map((v, i) => tf.tensor(v, c.shapes[i])));
    return { shape: r.shape, values: Array.from(r.dataSync()) };
  });
  return { name: c.name, inputs, ...out };
});
const backend = tf.backend() as unknown as { wasm?: { PThread?: { runningWorkers: unknown[] } } };
process.stdout.write(
  JSON.stringify({
    threads: info.threads,
    pthreadsRunning: backend.wasm?.PThread?.runningWorkers.length ?? 0,
    leakedTensors: tf.memory().numTensors - before,
    results,
  }) + '\n',
);
