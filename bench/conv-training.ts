// Benchmark (not a test): seconds per training step of recipes/train-fashion-resnet.yaml's ResNet
// (its model spec, read from the recipe; batch 128 of 28×28×1) on wasm, the convolutions run two
// ways in the same process, interleaved so both see the same machine load:
//   * im2col — the former path: each conv as kh·kw slices + concat × kernel, differentiated
//     through the slices;
//   * native — conv2d with its own gradients (src/models/tfjs-layers/conv-with-gradients.ts).
// A step is the forward + backward of the mean cross-entropy w.r.t. every trainable variable
// (tf.variableGrads, batch norm in training mode), as the train stage takes it; the optimizer
// update is left out (the same small cost on both paths). Also checks that both paths give the
// same loss and gradients on the benchmark's batch.
// Run: node dist/bench/conv-training.js [--rounds N]   → bench/results/conv-training.json
import { promises as fs } from 'node:fs';
import { loadavg } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import YAML from 'yaml';
import { initBackend } from '../src/models/backend.js';
import { meanLoss } from '../src/models/loss.js';
import { median } from '../src/models/metrics.js';
import { buildModel, type ModelSpec } from '../src/models/model-spec.js';
import { GraphForward } from '../src/models/tfjs-layers/graph-forward.js';
import type { ConvPath } from '../src/models/tfjs-layers/linear-ops.js';
import { packageRoot } from '../src/util/package-root.js';
import { Rng } from '../src/util/rng.js';

const batch = 128;
const trainingImages = 60_000;

interface Recipe {
  stages: { model: { with: { model: ModelSpec } } };
}

/** One training step's loss and gradients, by variable name; the caller disposes the grads. */
function step(
  graph: GraphForward,
  x: tf.Tensor,
  y: tf.Tensor1D,
  vars: tf.Variable[],
): { loss: tf.Scalar; grads: tf.NamedTensorMap } {
  const { value, grads } = tf.variableGrads(
    () => meanLoss(graph.run(x, { training: true, rng: new Rng(1) }).output, y),
    vars,
  );
  return { loss: value, grads };
}

async function timedStep(
  graph: GraphForward,
  x: tf.Tensor,
  y: tf.Tensor1D,
  vars: tf.Variable[],
): Promise<number> {
  const t0 = performance.now();
  const { loss, grads } = step(graph, x, y, vars);
  await Promise.all(Object.values(grads).map((g) => g.data()));
  const seconds = (performance.now() - t0) / 1000;
  tf.dispose([loss, ...Object.values(grads)]);
  return seconds;
}

async function main(): Promise<void> {
  const at = process.argv.indexOf('--rounds');
  const rounds = at >= 0 ? Number(process.argv[at + 1]) : 3;
  await initBackend('wasm');
  const recipePath = join(packageRoot, 'recipes', 'train-fashion-resnet.yaml');
  const recipe = YAML.parse(await fs.readFile(recipePath, 'utf8')) as Recipe;
  const model = buildModel(recipe.stages.model.with.model, new Rng(7), 'bench');
  const vars = model.trainableWeights.map((w) => w.read() as tf.Variable);
  const graphs: Record<ConvPath, GraphForward> = {
    im2col: new GraphForward(model, 'im2col'),
    native: new GraphForward(model, 'native'),
  };
  const rng = new Rng(3);
  const x = tf.tensor4d(
    Float32Array.from({ length: batch * 28 * 28 }, () => rng.normal()),
    [batch, 28, 28, 1],
  );
  const y = tf.tensor1d(
    Array.from({ length: batch }, (_, i) => i % 10),
    'int32',
  );

  // Same batch, same weights: the two paths' loss and gradients (batch norm's moving statistics
  // move with every training step but do not enter a training-mode forward).
  const a = step(graphs.im2col, x, y, vars);
  const b = step(graphs.native, x, y, vars);
  let maxGradDiff = 0;
  let maxGrad = 0;
  for (const [name, g] of Object.entries(a.grads)) {
    const ga = g.dataSync();
    const gb = (b.grads[name] as tf.Tensor).dataSync();
    for (let i = 0; i < ga.length; i++) {
      maxGradDiff = Math.max(maxGradDiff, Math.abs((ga[i] as number) - (gb[i] as number)));
      maxGrad = Math.max(maxGrad, Math.abs(ga[i] as number));
    }
  }
  const lossA = a.loss.dataSync()[0] as number;
  const lossB = b.loss.dataSync()[0] as number;
  tf.dispose([a.loss, b.loss, ...Object.values(a.grads), ...Object.values(b.grads)]);

  const load0 = loadavg();
  const times: Record<ConvPath, number[]> = { im2col: [], native: [] };
  for (let r = 0; r < rounds; r++) {
    for (const path of ['im2col', 'native'] as const) {
      const s = await timedStep(graphs[path], x, y, vars);
      times[path].push(s);
      console.log(`round ${r + 1} ${path}: ${s.toFixed(3)} s`);
    }
  }
  const perStep = { im2col: median(times.im2col), native: median(times.native) };
  const ratios = times.im2col.map((t, i) => t / (times.native[i] as number));
  const stepsPerEpoch = Math.ceil(trainingImages / batch);
  const report = {
    date: new Date().toISOString(),
    node: process.version,
    tfjs: tf.version_core,
    backend: 'wasm',
    model: 'recipes/train-fashion-resnet.yaml (stages.model.with.model)',
    batch,
    note: 'seconds per training step = forward + backward (tf.variableGrads) of the mean loss, optimizer update excluded; medians of interleaved rounds on a shared machine: compare the ratio, not absolute numbers',
    rounds,
    secondsPerStep: perStep,
    allSeconds: times,
    speedup: { ofMedians: perStep.im2col / perStep.native, perRound: ratios },
    minutesPerEpoch: {
      stepsPerEpoch,
      im2col: (stepsPerEpoch * perStep.im2col) / 60,
      native: (stepsPerEpoch * perStep.native) / 60,
    },
    sameResults: { lossIm2col: lossA, lossNative: lossB, maxGradDiff, maxGrad },
    loadavg: { before: load0, after: loadavg() },
  };
  console.log(JSON.stringify(report, null, 2));
  const dir = join(packageRoot, 'bench', 'results');
  await fs.mkdir(dir, { recursive: true });
  await fs.writeFile(join(dir, 'conv-training.json'), JSON.stringify(report, null, 2) + '\n');
  tf.dispose([x, y]);
}

await main();
