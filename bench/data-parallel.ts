// Benchmark (not a test) of the data-parallel passes (src/parallel/) at 1 and 2 worker threads,
// in one process, rounds alternating the order (1, 2 then 2, 1…), every result compared bit for
// bit between the thread counts:
//   - garment classifier per-sample-gradient pass: G of a 1024-entry block of linear2 and the
//     mean gradient, over a batch of 2000 training samples, and over iCBS's batch of 200;
//   - one iCBS step on the garment classifier (the authors' settings, as bench/icbs-step.ts);
//   - evaluation of the Fashion-MNIST test split (10,000 samples, batch 256);
//   - the bundled GPT-2 (assets/gutenberg-gpt2): forward+backward tokens/s of the mean-loss
//     gradient pass over 16 × 128 tokens (calibration's meanGradient, batches of 2), and its
//     evaluation (perplexity) of 32 × 128 tokens.
// Beside each pass (but the iCBS step and the small batch), the host's ceiling for it: two
// independent copies of its single-thread code at once on two worker threads over one alone
// (helpers/host-ceiling.ts) — the most a split can give on this machine — and the split's
// efficiency, speedup / ceiling, both from this run.
// The machine's load (os.loadavg, as `uptime` prints it) is recorded before and after.
// Run: npm run build && node dist/bench/data-parallel.js [rounds]
//      → bench/results/data-parallel.json
import { mkdirSync, renameSync, writeFileSync } from 'node:fs';
import { availableParallelism, loadavg } from 'node:os';
import { join } from 'node:path';
import { disposeBatch, sliceSamples } from '../src/data/batches.js';
import { initBackend } from '../src/models/backend.js';
import { hfCausalLmFamily } from '../src/models/hf/family.js';
import { median } from '../src/models/metrics.js';
import { GradientEngine } from '../src/models/per-sample-gradients.js';
import { calibrationStatistics } from '../src/parallel/calibration.js';
import { closeDataParallel, configureDataParallel } from '../src/parallel/context.js';
import { evaluateModel } from '../src/parallel/evaluation.js';
import { ParallelGradients } from '../src/parallel/gradients.js';
import type { Samples } from '../src/plugin-api/dataset.js';
import type { PrunableModel } from '../src/plugin-api/model.js';
import { sa } from '../src/solvers/index.js';
import { packageRoot } from '../src/util/package-root.js';
import { garmentModelAndData } from './helpers/garment-data.js';
import { runIcbsSteps } from './helpers/icbs-steps.js';
import { hostCeiling, type CeilingReport } from './helpers/host-ceiling.js';
import {
  garmentBlock,
  tokenSamples,
  type WorkloadName,
} from './helpers/single-thread-workloads.js';
import { digest, machineRecord, sharedSamples } from './helpers/thread-bench.js';

/**
 * The thread counts compared: `node dist/bench/data-parallel.js [rounds] [1,2,4]`, else every
 * power of two up to the machine's cores (at least 1 and 2). Speedups are over 1 thread; the bar
 * is at 2.
 */
function threadCountsOf(arg: string | undefined): number[] {
  if (arg !== undefined) {
    const counts = arg.split(',').map(Number);
    if (
      counts.some((n) => !Number.isInteger(n) || n < 1) ||
      !counts.includes(1) ||
      !counts.includes(2)
    )
      throw new Error(`thread counts '${arg}': whole numbers, including 1 and 2 (e.g. 1,2,4)`);
    return [...new Set(counts)].sort((a, b) => a - b);
  }
  const out = [1, 2];
  for (let n = 4; n <= availableParallelism(); n *= 2) out.push(n);
  return out;
}
const threadCounts = threadCountsOf(process.argv[3]);

/** One measurement of a pass: its wall time and a digest of its result. */
type Pass = () => Promise<{ ms: number; digest: string; extra?: Record<string, number> }>;

interface PassReport {
  name: string;
  ms: Record<string, { min: number; median: number; all: number[] }>;
  /** t(1) / t(2) within each round, and their median and min. */
  speedupPerRound: number[];
  speedup: { median: number; min: number; max: number };
  /** t(1) / t(n) for every count n above 1 (2 is `speedup`). */
  speedupAt: Record<string, { median: number; min: number; max: number }>;
  /** Median over rounds of the process's CPU time / wall time during the pass. */
  cpuPerWall: Record<string, number>;
  identical: boolean;
  digest: string;
  unit?: Record<string, number>;
  medians?: Record<string, number>;
  /** Two independent single-thread copies at once over one (helpers/host-ceiling.ts). */
  ceiling?: CeilingReport;
  /** speedup.median / ceiling.median: how much of what the host gives the split gets. */
  efficiency?: number;
}

/** The pass's host ceiling, `rounds` rounds with phases of about 1.5 s, and its efficiency. */
async function withCeiling(
  report: PassReport,
  workload: WorkloadName,
  rounds: number,
): Promise<PassReport> {
  const one = report.ms['1']?.median ?? 1000;
  const ceiling = await hostCeiling(workload, rounds, Math.max(1, Math.round(1500 / one)));
  const efficiency = report.speedup.median / ceiling.median;
  console.log(
    `${report.name}: host ceiling ${ceiling.median.toFixed(2)}× (${ceiling.perRound.join(', ')}), efficiency ${(100 * efficiency).toFixed(0)} %`,
  );
  return { ...report, ceiling, efficiency: Math.round(efficiency * 1000) / 1000 };
}

async function measure(
  name: string,
  passes: (threads: number) => Promise<Pass>,
  rounds: number,
  unitOf?: (ms: number) => Record<string, number>,
): Promise<PassReport> {
  const ms: Record<number, number[]> = Object.fromEntries(threadCounts.map((t) => [t, []]));
  const cpu: Record<number, number[]> = Object.fromEntries(threadCounts.map((t) => [t, []]));
  const ratiosAt: Record<number, number[]> = Object.fromEntries(threadCounts.map((t) => [t, []]));
  const extras: Record<string, number[]> = {};
  const digests = new Set<string>();
  const ratios: number[] = [];
  let pooled = 0;
  for (let r = -1; r < rounds; r++) {
    // Round −1 warms up (worker start, replica load, wasm compilation); not counted.
    const order = r % 2 === 0 ? [...threadCounts] : [...threadCounts].reverse();
    const round: Record<number, number> = {};
    for (const threads of order) {
      configureDataParallel(threads, 'wasm');
      const pass = await passes(threads);
      // One pool per process: another count starts new workers, a start-up not to be timed.
      if (threads > 1 && threads !== pooled) {
        await pass();
        pooled = threads;
      }
      const c0 = process.cpuUsage();
      const w0 = performance.now();
      const out = await pass();
      const c = process.cpuUsage(c0);
      const wall = performance.now() - w0;
      digests.add(out.digest);
      if (r >= 0) {
        (ms[threads] as number[]).push(out.ms);
        // CPU time of every thread of the process over wall time: the cores the pass really got.
        (cpu[threads] as number[]).push((c.user + c.system) / 1000 / wall);
        for (const [k, v] of Object.entries(out.extra ?? {}))
          (extras[`${k}@${threads}`] ??= []).push(v);
        round[threads] = out.ms;
      }
    }
    if (r >= 0) {
      ratios.push((round[1] as number) / (round[2] as number));
      for (const t of threadCounts) ratiosAt[t]?.push((round[1] as number) / (round[t] as number));
    }
    process.stdout.write(
      `${name} round ${r}: ${threadCounts.map((t) => `${t}t ${round[t]?.toFixed(0) ?? '-'} ms`).join(', ')}\n`,
    );
  }
  const stat = (v: number[]): { min: number; median: number; all: number[] } => ({
    min: Math.min(...v),
    median: median(v),
    all: v.map((x) => Math.round(x * 10) / 10),
  });
  const report: PassReport = {
    name,
    ms: Object.fromEntries(threadCounts.map((t) => [String(t), stat(ms[t] as number[])])),
    speedupPerRound: ratios.map((x) => Math.round(x * 1000) / 1000),
    speedup: { median: median(ratios), min: Math.min(...ratios), max: Math.max(...ratios) },
    speedupAt: Object.fromEntries(
      threadCounts
        .filter((t) => t > 1)
        .map((t) => {
          const v = ratiosAt[t] as number[];
          return [String(t), { median: median(v), min: Math.min(...v), max: Math.max(...v) }];
        }),
    ),
    cpuPerWall: Object.fromEntries(
      threadCounts.map((t) => [String(t), Math.round(median(cpu[t] as number[]) * 100) / 100]),
    ),
    identical: digests.size === 1,
    digest: [...digests].join(' ≠ '),
    ...(Object.keys(extras).length > 0
      ? {
          medians: Object.fromEntries(
            Object.entries(extras).map(([k, v]) => [k, Math.round(median(v) * 10) / 10]),
          ),
        }
      : {}),
  };
  if (unitOf !== undefined) {
    report.unit = Object.fromEntries(
      threadCounts.flatMap((t) =>
        Object.entries(unitOf(report.ms[String(t)]?.median ?? NaN)).map(([k, v]) => [
          `${k}@${t}`,
          v,
        ]),
      ),
    );
  }
  console.log(
    `${name}: speedup ${report.speedup.median.toFixed(2)}× (min ${report.speedup.min.toFixed(2)}, max ${report.speedup.max.toFixed(2)})${threadCounts
      .filter((t) => t > 2)
      .map((t) => `, @${t} ${report.speedupAt[String(t)]?.median.toFixed(2)}×`)
      .join(
        '',
      )}, cpu/wall ${threadCounts.map((t) => report.cpuPerWall[String(t)]).join(' / ')}, ${report.identical ? 'identical' : 'RESULTS DIFFER'}`,
  );
  return report;
}

async function gradientPass(
  model: PrunableModel,
  train: Samples,
  count: number,
  withMean: boolean,
  minWork?: number,
): Promise<(t: number) => Promise<Pass>> {
  const layer = 'linear2';
  const info = model.operators.find((o) => o.name === layer);
  if (info === undefined) throw new Error('no linear2');
  const block = garmentBlock(info.paramCount);
  const engine = new GradientEngine(model);
  return async (threads) => {
    const parallel =
      threads > 1
        ? await ParallelGradients.create(model, minWork !== undefined ? { minWork } : {})
        : undefined;
    return async () => {
      const batch = model.task.batch(sliceSamples(train, 0, count));
      const t0 = performance.now();
      const g =
        (await parallel?.compute(batch, layer)) ?? engine.compute(batch, [layer]).get(layer);
      if (g === undefined) throw new Error('no gradients');
      const G = await g.blockGradients(block);
      const mean = withMean ? await g.meanGradient() : new Float32Array();
      const ms = performance.now() - t0;
      g.dispose();
      disposeBatch(batch);
      return { ms, digest: digest(G.data, mean) };
    };
  };
}

async function main(): Promise<void> {
  const rounds = Number(process.argv[2] ?? 5);
  const loadBefore = loadavg();
  const backend = await initBackend('wasm');
  const { model: garment, train: trainSplit, test: testSplit } = await garmentModelAndData();
  const train = { ...trainSplit, ...sharedSamples(trainSplit) };
  const test = sharedSamples(testSplit);
  const passes: PassReport[] = [];

  passes.push(
    await withCeiling(
      await measure(
        'garment evaluation, test split (10,000 samples, batch 256)',
        async () => async () => {
          const t0 = performance.now();
          const m = await evaluateModel(garment, test, { batchSize: 256, topK: 3 });
          return {
            ms: performance.now() - t0,
            digest: digest(m.loss, m.values.accuracy ?? NaN, m.values.top3Accuracy ?? NaN),
          };
        },
        rounds,
        (ms) => ({ samplesPerSecond: Math.round(10_000 / (ms / 1000)) }),
      ),
      'garment-evaluation',
      rounds,
    ),
  );
  passes.push(
    await withCeiling(
      await measure(
        'garment per-sample gradients G, linear2 block 1024, batch 2000',
        await gradientPass(garment, train, 2000, false),
        rounds,
      ),
      'garment-gradients',
      rounds,
    ),
  );
  passes.push(
    await withCeiling(
      await measure(
        'garment per-sample gradients G + mean gradient, linear2 block 1024, batch 2000',
        await gradientPass(garment, train, 2000, true),
        rounds,
      ),
      'garment-gradients-mean',
      rounds,
    ),
  );
  passes.push(
    await measure(
      'garment per-sample gradients G + mean gradient, linear2 block 1024, batch 200 (iCBS batch), split although below minShardWork',
      await gradientPass(garment, train, 200, true, 0),
      rounds,
    ),
  );

  // One iCBS step (median of 12 after 2 warm-up steps) at the authors' settings.
  const dense = garment.operators.map((o) => garment.readWeight(o.name));
  passes.push(
    await measure(
      'one iCBS step, garment classifier (density 0.1, batch 200, block 1024, median of 12)',
      async (threads) => {
        const parallel = threads > 1 ? await ParallelGradients.create(garment) : undefined;
        return async () => {
          garment.operators.forEach((o, i) =>
            garment.writeWeight(o.name, dense[i] as Float32Array),
          );
          const { states, records } = await runIcbsSteps({
            model: garment,
            train,
            count: 14,
            ...(parallel !== undefined ? { parallel } : {}),
          });
          const timed = records.slice(2);
          const times = timed.map((r) => r.timeMs.total);
          const grads = timed.map((r) => r.timeMs.gradients);
          const masks = states.map((s) => s.weights);
          return {
            ms: median(times),
            digest: digest(...masks),
            extra: { gradientsMs: median(grads) },
          };
        };
      },
      rounds,
    ),
  );
  garment.operators.forEach((o, i) => garment.writeWeight(o.name, dense[i] as Float32Array));

  // The bundled GPT-2: forward+backward over 16 × 128 tokens, and evaluation of 32 × 128.
  const lm = await hfCausalLmFamily.load(join(packageRoot, 'assets', 'gutenberg-gpt2'));
  const seq = 128;
  const fb = tokenSamples(16, 1, true);
  const requests = lm.operators.map((info) => ({
    info,
    inputNorms: false,
    gram: false,
    meanGradient: true,
  }));
  passes.push(
    await withCeiling(
      await measure(
        'bundled GPT-2 forward+backward (mean-loss gradients of every projection), 16 × 128 tokens, batches of 2',
        async () => async () => {
          const t0 = performance.now();
          const out = await calibrationStatistics(lm, fb, requests, { batchSize: 2 });
          const ms = performance.now() - t0;
          return {
            ms,
            digest: digest(...[...out.values()].map((c) => c.meanGradient ?? new Float32Array())),
          };
        },
        rounds,
        (ms) => ({ tokensPerSecond: Math.round((16 * seq) / (ms / 1000)) }),
      ),
      'gpt2-forward-backward',
      rounds,
    ),
  );
  const ev = tokenSamples(32, 2, true);
  passes.push(
    await withCeiling(
      await measure(
        'bundled GPT-2 evaluation (perplexity), 32 × 128 tokens, batch 4',
        async () => async () => {
          const t0 = performance.now();
          const m = await evaluateModel(lm, ev, { batchSize: 4 });
          return { ms: performance.now() - t0, digest: digest(m.loss) };
        },
        rounds,
        (ms) => ({ tokensPerSecond: Math.round((32 * seq) / (ms / 1000)) }),
      ),
      'gpt2-evaluation',
      rounds,
    ),
  );
  await closeDataParallel();
  await sa.close?.();
  const loadAfter = loadavg();

  const result = {
    benchmark: 'data-parallel',
    date: new Date().toISOString(),
    ...machineRecord(loadBefore, loadAfter),
    backend: backend.name,
    rounds,
    threadCounts,
    passes,
    bar: {
      speedupAt2: 1.7,
      met: passes
        .filter((p) => !p.name.startsWith('one iCBS step') && !p.name.includes('batch 200'))
        .every((p) => p.speedup.median >= 1.7),
      identical: passes.every((p) => p.identical),
      /** The lowest speedup / host ceiling of the passes measured against one. */
      efficiencyMin: Math.min(
        ...passes.flatMap((p) => (p.efficiency !== undefined ? [p.efficiency] : [])),
      ),
    },
  };
  const dir = join(packageRoot, 'bench', 'results');
  mkdirSync(dir, { recursive: true });
  const file = join(dir, 'data-parallel.json');
  writeFileSync(`${file}.tmp`, JSON.stringify(result, null, 2) + '\n');
  renameSync(`${file}.tmp`, file);
  console.log(
    `load ${result.load.before.join(' ')} → ${result.load.after.join(' ')}; bar ${result.bar.met ? 'met' : 'missed'}; identical ${result.bar.identical} → ${file}`,
  );
  garment.dispose();
  lm.dispose();
}

main().catch((e: unknown) => {
  console.error(e);
  process.exit(1);
});
