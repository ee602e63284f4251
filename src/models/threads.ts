// How many threads a computing process uses. The recipe's `threads` / --threads (`auto` = every
// core of the machine, os.availableParallelism()) is the budget of the whole run for the
// data-parallel passes (src/parallel/: evaluation, per-sample gradients, calibration statistics on
// worker threads, each with its own single-threaded wasm backend), shared by the stage processes
// of `--jobs N` rather than multiplied by them. tfjs's threaded wasm build (wasm-threads.ts) is a
// separate experiment, off unless SCALPEL_WASM_THREADS asks for it (docs/performance.md).
import { availableParallelism } from 'node:os';
import { ErrorCode, ScalpelError } from '../errors.js';

/** What a recipe's `threads` holds (recipe/types.ts spells the same type: models sits below recipe). */
export type ThreadsChoice = 'auto' | number;

/**
 * The default: every core. Results do not depend on the count (every data-parallel pass is
 * bitwise the single-thread pass, docs/performance.md), so it costs no reproducibility; a
 * model's replicas are capped by memory (parallel/replica.ts). `threads: 1` is the old behaviour.
 */
export const defaultThreads: ThreadsChoice = 'auto';

/** tfjs-backend-wasm pre-creates 8 pthread workers and caps its XNNPACK pool there. */
export const maxWasmThreads = 8;

/** Each data-parallel worker holds a model replica: more than this is memory, not speed. */
export const maxDataParallelThreads = 64;

/** The thread budget `choice` means on this machine. */
export function threadBudget(choice: ThreadsChoice): number {
  return choice === 'auto' ? Math.max(1, availableParallelism()) : choice;
}

/** Threads for each of `jobs` processes computing at once: the budget split, at least one each. */
export function threadsPerProcess(choice: ThreadsChoice, jobs = 1): number {
  const share = Math.floor(threadBudget(choice) / Math.max(1, Math.floor(jobs)));
  return Math.min(maxDataParallelThreads, Math.max(1, share));
}

/**
 * XNNPACK threads of the wasm backend, from SCALPEL_WASM_THREADS (`auto` or a count; default 1,
 * the single-threaded build): the threaded-build experiment, kept apart from `threads`.
 */
export function wasmThreadsFromEnv(env: NodeJS.ProcessEnv = process.env): number {
  const raw = env.SCALPEL_WASM_THREADS;
  if (raw === undefined || raw === '') return 1;
  const n = raw === 'auto' ? availableParallelism() : Number(raw);
  if (!Number.isInteger(n) || n < 1) {
    throw new ScalpelError(
      ErrorCode.Usage,
      `SCALPEL_WASM_THREADS=${raw}: expected 'auto' or a whole number >= 1`,
      { hint: 'unset it for the single-threaded wasm build' },
    );
  }
  return Math.min(maxWasmThreads, n);
}
