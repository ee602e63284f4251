// What this host's second core gives a pass at best: the throughput of two *independent* copies
// of the pass's single-thread code running at once on two worker threads, over one copy alone.
// Nothing is split or combined, so whatever keeps this below 2× (shared caches, memory bandwidth,
// a busy neighbour) is the machine's, and a data-parallel speedup can at most reach it. Rounds
// alternate the order (alone first, then together first).
import { Worker } from 'node:worker_threads';
import { median } from '../../src/models/metrics.js';
import type { WorkloadName } from './single-thread-workloads.js';

export interface CeilingReport {
  /** Median ms of one run alone, and of one run while the other copy runs too. */
  readonly aloneMs: number;
  readonly togetherMs: number;
  /** 2 × alone / together per round (throughput of two copies over one), and their median. */
  readonly perRound: number[];
  readonly median: number;
}

const workerUrl = new URL('./ceiling-worker.js', import.meta.url);

function start(workload: WorkloadName): Promise<Worker> {
  const w = new Worker(workerUrl, { workerData: { workload } });
  return new Promise((resolve, reject) => {
    w.once('message', () => resolve(w));
    w.once('error', reject);
  });
}

function runs(w: Worker, count: number): Promise<number[]> {
  return new Promise((resolve, reject) => {
    w.once('message', (t: number[]) => resolve(t));
    w.once('error', reject);
    w.postMessage({ runs: count });
  });
}

/** Runs `workload` alone and two at once, `rounds` times, each phase `reps` runs per copy. */
export async function hostCeiling(
  workload: WorkloadName,
  rounds: number,
  reps: number,
): Promise<CeilingReport> {
  const [a, b] = await Promise.all([start(workload), start(workload)]);
  const alone: number[] = [];
  const together: number[] = [];
  const perRound: number[] = [];
  try {
    for (let r = 0; r < rounds; r++) {
      let one = 0;
      let two = 0;
      const phases = [
        async () => {
          one = median(await runs(a, reps));
        },
        async () => {
          const [ta, tb] = await Promise.all([runs(a, reps), runs(b, reps)]);
          two = (median(ta) + median(tb)) / 2;
        },
      ];
      for (const phase of r % 2 === 0 ? phases : [...phases].reverse()) await phase();
      alone.push(one);
      together.push(two);
      perRound.push((2 * one) / two);
    }
  } finally {
    await Promise.all([a.terminate(), b.terminate()]);
  }
  return {
    aloneMs: median(alone),
    togetherMs: median(together),
    perRound: perRound.map((x) => Math.round(x * 1000) / 1000),
    median: median(perRound),
  };
}
