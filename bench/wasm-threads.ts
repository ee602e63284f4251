// Benchmark (not a test): tfjs-backend-wasm at 1 thread (the plain SIMD build) against 2 or more
// (the threaded SIMD build, src/models/wasm-threads.ts), per op class and for two real passes:
// the garment classifier's test-split evaluation and a forward+backward of the bundled GPT-2.
// A wasm module keeps its thread count for life, so every measurement runs in a child process
// (this file with --child); the parent alternates thread counts round by round (1,2 then 2,1…) so
// a change of machine load hits both, and reports per-round ratios t(1) / t(N) and their median.
// Every child also returns a checksum of its outputs (sha256 of the result bytes, the metrics), so
// the report says whether N threads computed the very same numbers as one.
//
// Run: npm run build && node dist/bench/wasm-threads.js [--rounds 3] [--threads 2] [--quick]
//      → bench/results/wasm-threads.json
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { availableParallelism, loadavg } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as tf from '@tensorflow/tfjs-core';
import { initBackend } from '../src/models/backend.js';
import { median } from '../src/models/metrics.js';
import { packageRoot } from '../src/util/package-root.js';
import { opCases } from './helpers/thread-op-cases.js';
import { otherThreadsShare, threadTicks } from './helpers/thread-cpu.js';
import { garmentEvaluation, gpt2ForwardBackward } from './helpers/thread-model-passes.js';

interface Measured {
  readonly ms: number;
  /** CPU time of the whole process (all threads) over wall time: ~1 serial, ~N when N threads work. */
  readonly cpuPerWall: number;
  /** Share of that CPU time spent outside the main thread: ~0 serial, ~0.5 when 2 threads split an op. */
  readonly otherThreads: number;
  /** sha256 of the outputs, or the metrics as a string. */
  readonly check: string;
}
type ChildResult = Record<string, Measured>;

function argValue(name: string, fallback: number): number {
  const i = process.argv.indexOf(name);
  const v = i >= 0 ? Number(process.argv[i + 1]) : NaN;
  return Number.isFinite(v) ? v : fallback;
}

function sha(t: tf.Tensor): string {
  const d = t.dataSync();
  return createHash('sha256')
    .update(new Uint8Array(d.buffer, d.byteOffset, d.byteLength))
    .digest('hex')
    .slice(0, 16);
}

function timeMs(
  fn: () => void,
  runs: number,
  warmup: number,
): { ms: number; cpuPerWall: number; otherThreads: number } {
  for (let i = 0; i < warmup; i++) fn();
  const t: number[] = [];
  const cpu0 = process.cpuUsage();
  const ticks0 = threadTicks();
  const wall0 = performance.now();
  for (let i = 0; i < runs; i++) {
    const t0 = performance.now();
    fn();
    t.push(performance.now() - t0);
  }
  const cpu = process.cpuUsage(cpu0);
  return {
    ms: median(t),
    cpuPerWall: (cpu.user + cpu.system) / 1000 / (performance.now() - wall0),
    otherThreads: otherThreadsShare(ticks0, threadTicks()),
  };
}

async function child(threads: number, suite: string, quick: boolean): Promise<ChildResult> {
  const info = await initBackend('wasm', threads);
  if (info.threads !== threads)
    throw new Error(`asked for ${threads} threads, got ${info.threads}`);
  const out: ChildResult = {};
  if (suite === 'ops') {
    for (const c of opCases()) {
      const inputs = c.inputs();
      // Not tf.tidy(() => ….dataSync()): tidy walks a returned typed array key by key.
      const timing = timeMs(
        () => {
          const r = c.run(inputs);
          r.dataSync();
          r.dispose();
        },
        quick ? 3 : c.runs,
        1,
      );
      const result = c.run(inputs);
      out[c.name] = { ...timing, check: sha(result) };
      tf.dispose([result, ...inputs]);
    }
  } else if (suite === 'garment') {
    out['garment MLP test-split evaluation'] = await garmentEvaluation(quick ? 1 : 3);
  } else if (suite === 'gpt2') {
    Object.assign(out, await gpt2ForwardBackward(quick ? 1 : 3));
  } else throw new Error(`unknown suite ${suite}`);
  return out;
}

interface Row {
  name: string;
  suite: string;
  /** Per thread count: the ms of every round. */
  ms: Record<number, number[]>;
  /** Per round: t(1) / t(N). */
  speedup: number[];
  /** Per thread count: CPU time / wall time of every round. */
  cpuPerWall: Record<number, number[]>;
  otherThreads: Record<number, number[]>;
  identical: boolean;
  checks: Record<number, string[]>;
}

function runChild(threads: number, suite: string, quick: boolean): ChildResult {
  const script = fileURLToPath(import.meta.url);
  const args = [
    script,
    '--child',
    suite,
    '--threads',
    String(threads),
    ...(quick ? ['--quick'] : []),
  ];
  const r = spawnSync(process.execPath, args, { encoding: 'utf8', maxBuffer: 1 << 24 });
  if (r.status !== 0) throw new Error(`child ${suite} @${threads} failed:\n${r.stderr}`);
  const line = r.stdout.trim().split('\n').pop() ?? '{}';
  return JSON.parse(line) as ChildResult;
}

async function main(): Promise<void> {
  const quick = process.argv.includes('--quick');
  const ci = process.argv.indexOf('--child');
  if (ci >= 0) {
    const r = await child(argValue('--threads', 1), process.argv[ci + 1] ?? 'ops', quick);
    process.stdout.write(JSON.stringify(r) + '\n');
    return;
  }
  const rounds = argValue('--rounds', quick ? 1 : 3);
  const n = argValue('--threads', 2);
  const load0 = loadavg();
  const rows = new Map<string, Row>();
  for (let round = 0; round < rounds; round++) {
    const order = round % 2 === 0 ? [1, n] : [n, 1];
    for (const suite of ['ops', 'garment', 'gpt2']) {
      const got: Record<number, ChildResult> = {};
      for (const t of order) got[t] = runChild(t, suite, quick);
      for (const [name, one] of Object.entries(got[1] ?? {})) {
        const many = got[n]?.[name];
        if (many === undefined) continue;
        const row = rows.get(name) ?? {
          name,
          suite,
          ms: { 1: [], [n]: [] },
          speedup: [],
          cpuPerWall: { 1: [], [n]: [] },
          otherThreads: { 1: [], [n]: [] },
          identical: true,
          checks: { 1: [], [n]: [] },
        };
        row.ms[1]?.push(one.ms);
        row.ms[n]?.push(many.ms);
        row.checks[1]?.push(one.check);
        row.checks[n]?.push(many.check);
        row.speedup.push(one.ms / many.ms);
        row.cpuPerWall[1]?.push(one.cpuPerWall);
        row.cpuPerWall[n]?.push(many.cpuPerWall);
        row.otherThreads[1]?.push(one.otherThreads);
        row.otherThreads[n]?.push(many.otherThreads);
        row.identical &&= one.check === many.check;
        rows.set(name, row);
        console.log(
          `round ${round + 1} ${name}: ${one.ms.toFixed(1)} ms @1, ${many.ms.toFixed(1)} ms @${n} ` +
            `(${(one.ms / many.ms).toFixed(2)}×; cpu/wall ${one.cpuPerWall.toFixed(2)} vs ${many.cpuPerWall.toFixed(2)}; other threads ${(100 * many.otherThreads).toFixed(0)}%)${one.check === many.check ? '' : ' DIFFERENT RESULT'}`,
        );
      }
    }
  }
  const results = [...rows.values()].map((r) => ({
    name: r.name,
    suite: r.suite,
    medianMs: { 1: median(r.ms[1] ?? []), [n]: median(r.ms[n] ?? []) },
    medianSpeedup: median(r.speedup),
    medianCpuPerWall: { 1: median(r.cpuPerWall[1] ?? []), [n]: median(r.cpuPerWall[n] ?? []) },
    medianOtherThreadsShare: {
      1: median(r.otherThreads[1] ?? []),
      [n]: median(r.otherThreads[n] ?? []),
    },
    speedups: r.speedup,
    ms: r.ms,
    identicalResults: r.identical,
    checks: r.checks,
  }));
  const report = {
    threads: n,
    rounds,
    quick,
    cores: availableParallelism(),
    loadavg: { before: load0, after: loadavg() },
    results,
  };
  console.log(
    `\n| op | ms @1 | ms @${n} | speedup (median of rounds) | cpu/wall @1 | cpu/wall @${n} | off-main CPU @${n} | same result |`,
  );
  console.log('|---|---|---|---|---|---|---|---|');
  for (const r of results)
    console.log(
      `| ${r.name} | ${(r.medianMs[1] ?? 0).toFixed(1)} | ${(r.medianMs[n] ?? 0).toFixed(1)} | ` +
        `${r.medianSpeedup.toFixed(2)}× | ${(r.medianCpuPerWall[1] ?? 0).toFixed(2)} | ` +
        `${(r.medianCpuPerWall[n] ?? 0).toFixed(2)} | ` +
        `${(100 * (r.medianOtherThreadsShare[n] ?? 0)).toFixed(0)}% | ${r.identicalResults ? 'bitwise' : 'no'} |`,
    );
  const dir = join(packageRoot, 'bench', 'results');
  mkdirSync(dir, { recursive: true });
  const file = join(dir, 'wasm-threads.json');
  writeFileSync(file, JSON.stringify(report, null, 2) + '\n');
  console.log(
    `wrote ${file} (load average ${load0.map((x) => x.toFixed(2)).join(' ')} → ${loadavg()
      .map((x) => x.toFixed(2))
      .join(' ')})`,
  );
}

await main();
