// Benchmark (not a test): throughput of the garment classifier (784-512-512-10) on the wasm and
// cpu backends — forward and forward+backward samples/s — and achieved GFLOP/s of
//   * a bare tf.matMul of 1024×1024×1024, and the same product inside a tfjs-layers model
//     (a bias-free Dense 1024→1024 on a batch of 1024), and
//   * bare tf.matMul chains of exactly the model's sizes, against the model's forward pass.
// The bar: on wasm the model's forward GFLOP/s is within 2× of the bare matMuls of the same sizes.
// 'wasm-stock' is the backend as shipped; 'wasm' adds src/models/wasm-transposed-matmul.ts, which
// makes forward+backward several times faster.
// Run: npm run bench:tfjs   → bench/results/tfjs-throughput.json
import { promises as fs } from 'node:fs';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { initBackend, type BackendName } from '../src/models/backend.js';
import { buildModel, type ModelSpec } from '../src/models/model-spec.js';
import { meanLoss } from '../src/models/loss.js';
import { median } from '../src/models/metrics.js';
import { packageRoot } from '../src/util/package-root.js';
import { Rng } from '../src/util/rng.js';

const garment: ModelSpec = {
  input: [784],
  layers: [
    { type: 'dense', units: 512, activation: 'relu', name: 'linear1' },
    { type: 'dense', units: 512, activation: 'relu', name: 'linear2' },
    { type: 'dense', units: 10, name: 'linear3' },
  ],
};
/** Multiply-adds of one sample's forward pass. */
const macsPerSample = 784 * 512 + 512 * 512 + 512 * 10;
const batch = 256;

/** Median seconds of `fn` over `runs` timed calls after `warmup` calls (each call awaits its result). */
async function timeIt(fn: () => Promise<void>, runs: number, warmup: number): Promise<number> {
  for (let i = 0; i < warmup; i++) await fn();
  const t: number[] = [];
  for (let i = 0; i < runs; i++) {
    const t0 = performance.now();
    await fn();
    t.push((performance.now() - t0) / 1000);
  }
  return median(t);
}

async function benchBackend(
  name: BackendName,
  quick: boolean,
  label: string,
): Promise<Record<string, unknown>> {
  if (label === 'wasm-stock') {
    // Not initBackend: it installs the transposed-matMul fix, which this run measures without.
    await tf.setBackend('wasm');
    await tf.ready();
  } else {
    await initBackend(name);
  }
  // The plain-JS cpu backend is ~10-100× slower: fewer repetitions keep the benchmark short.
  const runs = quick || name === 'cpu' ? 3 : 10;
  const warm = name === 'cpu' ? 1 : 2;
  const rng = new Rng(1);
  const model = buildModel(garment, rng, 'bench');
  const x = tf.randomNormal([batch, 784], 0, 1, 'float32', 1);
  const y = tf.tensor1d(
    Array.from({ length: batch }, (_, i) => i % 10),
    'int32',
  );
  const vars = model.trainableWeights.map((w) => w.read() as tf.Variable);

  const fwd = await timeIt(
    async () => {
      const out = model.predict(x, { batchSize: batch }) as tf.Tensor;
      await out.data();
      out.dispose();
    },
    runs,
    warm,
  );
  const fwdBwd = await timeIt(
    async () => {
      const { value, grads } = tf.variableGrads(
        () => meanLoss(model.apply(x) as tf.Tensor, y),
        vars,
      );
      await Promise.all(Object.values(grads).map((g) => g.data()));
      tf.dispose([value, ...Object.values(grads)]);
    },
    runs,
    warm,
  );

  // Bare matMuls of exactly the model's sizes (no bias, no activation).
  const ws = [tf.randomNormal([784, 512]), tf.randomNormal([512, 512]), tf.randomNormal([512, 10])];
  const bareChain = await timeIt(
    async () => {
      const out = tf.tidy(() =>
        ws.reduce<tf.Tensor>((h, w) => tf.matMul(h as tf.Tensor2D, w as tf.Tensor2D), x),
      );
      await out.data();
      out.dispose();
    },
    runs,
    warm,
  );

  // 1024³: bare, and the same product as a Dense layer inside a model.
  const n = 1024;
  const a = tf.randomNormal([n, n]);
  const b = tf.randomNormal([n, n]);
  const bigRuns = name === 'cpu' || quick ? 2 : 5;
  const bare = await timeIt(
    async () => {
      const c = tf.matMul(a, b);
      await c.data();
      c.dispose();
    },
    bigRuns,
    1,
  );
  const dense = tfl.sequential({
    layers: [tfl.layers.dense({ inputShape: [n], units: n, useBias: false })],
  });
  const inModel = await timeIt(
    async () => {
      // batchSize: predict() would otherwise cut the 1024 rows into 32 products of 32 rows.
      const c = dense.predict(a, { batchSize: n }) as tf.Tensor;
      await c.data();
      c.dispose();
    },
    bigRuns,
    1,
  );

  const gflops = (macs: number, s: number): number => (2 * macs) / s / 1e9;
  const result = {
    backend: label,
    batch,
    forward: {
      samplesPerSec: batch / fwd,
      gflops: gflops(batch * macsPerSample, fwd),
      msPerBatch: 1000 * fwd,
    },
    // Backward costs ~2× the forward multiply-adds (input and weight gradients).
    forwardBackward: {
      samplesPerSec: batch / fwdBwd,
      gflops: gflops(3 * batch * macsPerSample, fwdBwd),
      msPerBatch: 1000 * fwdBwd,
    },
    bareMatMulSameSizes: {
      gflops: gflops(batch * (784 * 512 + 512 * 512 + 512 * 10), bareChain),
      msPerBatch: 1000 * bareChain,
    },
    matMul1024: {
      bareGflops: gflops(n * n * n, bare),
      inModelGflops: gflops(n * n * n, inModel),
      bareMs: 1000 * bare,
      inModelMs: 1000 * inModel,
    },
  };
  tf.dispose([x, y, a, b, ...ws]);
  model.dispose();
  dense.dispose();
  return result;
}

async function main(): Promise<void> {
  const quick = process.argv.includes('--quick');
  const results: Record<string, unknown>[] = [];
  // wasm as shipped first, then with the transposed-matMul fix initBackend installs.
  const runs: [BackendName, string][] = [
    ['wasm', 'wasm-stock'],
    ['wasm', 'wasm'],
    ['cpu', 'cpu'],
  ];
  for (const [backend, label] of runs) {
    const r = await benchBackend(backend, quick, label);
    console.log(JSON.stringify(r));
    results.push(r);
  }
  const wasm = results[1] as {
    forward: { gflops: number };
    bareMatMulSameSizes: { gflops: number };
  };
  const ratio = wasm.bareMatMulSameSizes.gflops / wasm.forward.gflops;
  const report = {
    date: new Date().toISOString(),
    node: process.version,
    tfjs: tf.version_core,
    note: 'GFLOP/s = 2·multiply-adds / s. Measured on a shared machine: compare ratios rather than absolute numbers.',
    results,
    bar: {
      description: 'wasm: model forward GFLOP/s within 2× of bare matMuls of the same sizes',
      bareOverModel: ratio,
      pass: ratio <= 2,
    },
  };
  const file = join(packageRoot, 'bench', 'results', 'tfjs-throughput.json');
  await fs.mkdir(join(packageRoot, 'bench', 'results'), { recursive: true });
  await fs.writeFile(file, JSON.stringify(report, null, 2) + '\n');
  console.log(
    `bare/model GFLOP/s ratio on wasm: ${ratio.toFixed(2)} (${ratio <= 2 ? 'PASS' : 'FAIL'}); written to ${file}`,
  );
}

await main();
