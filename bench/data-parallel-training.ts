// Benchmark (not a test) of data-parallel training steps (`microBatches`, src/parallel/training.ts):
// training steps per second of the steps loop (AdamW) at
//   - 1 thread, microBatches 1 (today's path: one forward over the whole batch),
//   - 1 thread, microBatches 2 (the two micro-batches one after another on the calling thread),
//   - 2 threads, microBatches 2 (one micro-batch per worker thread),
// for the garment classifier (assets/garment-classifier, batch 256 of Fashion-MNIST) and the
// bundled GPT-2 (assets/gutenberg-gpt2, batch 8 × 128 tokens). One process; each round runs the
// three settings from the same initial weights, in an order that alternates from round to round,
// after a warm-up round (worker start, replica load); the weights after the steps are compared bit
// for bit between 1 and 2 threads. Also the cost of the weight versions the workers get after
// every step (ModelReplica.currentWeights: read, compare, copy every variable), and the load.
// Run: npm run build && node dist/bench/data-parallel-training.js [rounds] [garmentSteps] [lmSteps]
//      → bench/results/data-parallel-training.json
import { mkdirSync, renameSync, writeFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { initBackend } from '../src/models/backend.js';
import { hfCausalLmFamily } from '../src/models/hf/family.js';
import { median } from '../src/models/metrics.js';
import { runStepLoop } from '../src/models/training/step-loop.js';
import {
  closeDataParallel,
  configureDataParallel,
  dataParallelPool,
  replicaFor,
} from '../src/parallel/context.js';
import { workerMicroBatches } from '../src/parallel/training.js';
import type { Samples } from '../src/plugin-api/dataset.js';
import type { PrunableModel } from '../src/plugin-api/model.js';
import { packageRoot } from '../src/util/package-root.js';
import { Rng } from '../src/util/rng.js';
import { garmentModelAndData } from './helpers/garment-data.js';
import { digest, machineRecord, sharedSamples } from './helpers/thread-bench.js';

interface Setting {
  readonly key: string;
  readonly threads: number;
  readonly microBatches: number;
}

const settings: readonly Setting[] = [
  { key: 'threads1-micro1', threads: 1, microBatches: 1 },
  { key: 'threads1-micro2', threads: 1, microBatches: 2 },
  { key: 'threads2-micro2', threads: 2, microBatches: 2 },
];

const round2 = (x: number): number => Math.round(x * 100) / 100;

/** `steps` AdamW steps from the model's initial weights; wall ms per step, CPU/wall, digest. */
async function trainSteps(
  model: PrunableModel,
  initial: readonly Float32Array[],
  train: Samples,
  batchSize: number,
  steps: number,
  s: Setting,
): Promise<{ msPerStep: number; cpuPerWall: number; digest: string }> {
  configureDataParallel(s.threads, 'wasm');
  const vars = model.trainableVariables();
  tf.tidy(() =>
    vars.forEach((v, i) => v.assign(tf.tensor(initial[i] as Float32Array, v.shape, 'float32'))),
  );
  const c0 = process.cpuUsage();
  const t0 = performance.now();
  await runStepLoop({
    model,
    train,
    steps,
    batchSize,
    microBatches: s.microBatches,
    microBatchRunner: workerMicroBatches,
    schedule: {
      kind: 'warmup-cosine',
      learningRate: 1e-4,
      minLearningRate: 1e-4,
      warmupSteps: 0,
      totalSteps: steps,
    },
    rng: new Rng(3),
    where: 'bench',
  });
  const wall = performance.now() - t0;
  const c = process.cpuUsage(c0);
  return {
    msPerStep: wall / steps,
    cpuPerWall: (c.user + c.system) / 1000 / wall,
    digest: digest(...vars.map((v) => v.dataSync() as Float32Array)),
  };
}

/** Median ms of ModelReplica.currentWeights after a change of the weights (every step's cost). */
async function weightVersionMs(model: PrunableModel): Promise<number> {
  configureDataParallel(2, 'wasm');
  const pool = dataParallelPool();
  if (pool === undefined) throw new Error('no pool');
  const replica = await replicaFor(pool, model);
  if (replica === undefined) throw new Error('no replica');
  const v = model.trainableVariables()[0] as tf.Variable;
  const times: number[] = [];
  for (let i = 0; i < 7; i++) {
    tf.tidy(() => v.assign(tf.add(v, 1e-3))); // a change, as an optimizer step makes
    const t0 = performance.now();
    replica.currentWeights();
    times.push(performance.now() - t0);
  }
  return median(times);
}

async function measure(
  name: string,
  model: PrunableModel,
  train: Samples,
  batchSize: number,
  steps: number,
  rounds: number,
  tokensPerSample: number,
): Promise<Record<string, unknown>> {
  const initial = model.trainableVariables().map((v) => Float32Array.from(v.dataSync()));
  const ms: Record<string, number[]> = {};
  const cpu: Record<string, number[]> = {};
  const digests: Record<string, Set<string>> = {};
  const ratios: number[] = [];
  const ratiosToBaseline: number[] = [];
  for (let r = -1; r < rounds; r++) {
    const order = r % 2 === 0 ? [...settings] : [...settings].reverse();
    const round: Record<string, number> = {};
    for (const s of order) {
      const out = await trainSteps(model, initial, train, batchSize, r < 0 ? 1 : steps, s);
      if (r < 0) continue;
      (digests[s.key] ??= new Set()).add(out.digest);
      (ms[s.key] ??= []).push(out.msPerStep);
      (cpu[s.key] ??= []).push(out.cpuPerWall);
      round[s.key] = out.msPerStep;
    }
    if (r >= 0) {
      const two = round['threads2-micro2'] as number;
      ratios.push((round['threads1-micro2'] as number) / two);
      ratiosToBaseline.push((round['threads1-micro1'] as number) / two);
    }
    process.stdout.write(
      `${name} round ${r}: ${settings.map((s) => `${s.key} ${round[s.key]?.toFixed(0) ?? '-'} ms/step`).join(', ')}\n`,
    );
  }
  const counted = (key: string): string[] => [...(digests[key] ?? [])];
  const one = counted('threads1-micro2');
  const two = counted('threads2-micro2');
  const same = one.length === 1 && two.length === 1 && one[0] === two[0];
  const versionMs = await weightVersionMs(model);
  const report = {
    name,
    batchSize,
    stepsPerRun: steps,
    settings: Object.fromEntries(
      settings.map((s) => {
        const all = ms[s.key] as number[];
        const m = median(all);
        return [
          s.key,
          {
            threads: s.threads,
            microBatches: s.microBatches,
            msPerStep: { median: round2(m), min: round2(Math.min(...all)), all: all.map(round2) },
            stepsPerSecond: round2(1000 / m),
            ...(tokensPerSample > 1
              ? { tokensPerSecond: Math.round((batchSize * tokensPerSample * 1000) / m) }
              : { samplesPerSecond: Math.round((batchSize * 1000) / m) }),
            cpuPerWall: round2(median(cpu[s.key] as number[])),
          },
        ];
      }),
    ),
    speedupMicro2: {
      note: 'ms/step at 1 thread over 2 threads, both microBatches 2, per round',
      perRound: ratios.map((x) => Math.round(x * 1000) / 1000),
      median: round2(median(ratios)),
    },
    speedupOverToday: {
      note: 'ms/step at 1 thread, microBatches 1 (today) over 2 threads, microBatches 2, per round',
      perRound: ratiosToBaseline.map((x) => Math.round(x * 1000) / 1000),
      median: round2(median(ratiosToBaseline)),
    },
    weightsIdenticalAcrossThreads: same,
    digests: Object.fromEntries(settings.map((s) => [s.key, counted(s.key)])),
    weightVersionMs: {
      note: 'ModelReplica.currentWeights after a change: read, compare and copy every variable (calling thread, once per step)',
      median: round2(versionMs),
      parameters: initial.reduce((a, v) => a + v.length, 0),
    },
  };
  console.log(JSON.stringify({ name, speedup: report.speedupMicro2.median, same, versionMs }));
  return report;
}

async function main(): Promise<void> {
  const rounds = Number(process.argv[2] ?? 3);
  const garmentSteps = Number(process.argv[3] ?? 10);
  const lmSteps = Number(process.argv[4] ?? 2);
  const loadBefore = loadavg();
  const backend = await initBackend('wasm');
  const { model: garment, train: trainSplit } = await garmentModelAndData();
  const models: Record<string, unknown>[] = [];
  models.push(
    await measure(
      'garment classifier (784-512-512-10), Fashion-MNIST batch 256',
      garment,
      sharedSamples(trainSplit),
      256,
      garmentSteps,
      rounds,
      1,
    ),
  );
  await closeDataParallel();
  garment.dispose();

  const lm = await hfCausalLmFamily.load(join(packageRoot, 'assets', 'gutenberg-gpt2'));
  const seq = 128;
  const rng = new Rng(1);
  const count = 64;
  const x = new Float32Array(new SharedArrayBuffer(count * seq * 4));
  for (let i = 0; i < x.length; i++) x[i] = rng.int(4096);
  const tokens: Samples = {
    count,
    sampleShape: [seq],
    x,
    y: new Int32Array(count),
    ids: Int32Array.from({ length: count }, (_, i) => i),
  };
  models.push(
    await measure(
      'bundled GPT-2 (assets/gutenberg-gpt2), batch 8 × 128 tokens',
      lm,
      tokens,
      8,
      lmSteps,
      rounds,
      seq,
    ),
  );
  await closeDataParallel();
  lm.dispose();
  const loadAfter = loadavg();
  const result = {
    benchmark: 'data-parallel-training',
    date: new Date().toISOString(),
    ...machineRecord(loadBefore, loadAfter),
    backend: backend.name,
    rounds,
    models,
  };
  const dir = join(packageRoot, 'bench', 'results');
  mkdirSync(dir, { recursive: true });
  const file = join(dir, 'data-parallel-training.json');
  writeFileSync(`${file}.tmp`, JSON.stringify(result, null, 2) + '\n');
  renameSync(`${file}.tmp`, file);
  console.log(`load ${result.load.before.join(' ')} → ${result.load.after.join(' ')} → ${file}`);
}

main().catch((e: unknown) => {
  console.error(e);
  process.exit(1);
});
