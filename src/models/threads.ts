// How many threads a computing process uses: the recipe's `threads` / --threads (`auto` = every
// core of the machine, os.availableParallelism()) is the budget of the whole run, shared by the
// stage processes of `--jobs N` rather than multiplied by them. One thread is the plain
// single-threaded wasm build; more start tfjs's threaded build (backend.ts, wasm-threads.ts).
import { availableParallelism } from 'node:os';

/** What a recipe's `threads` holds (recipe/types.ts spells the same type: models sits below recipe). */
export type ThreadsChoice = 'auto' | number;

/**
 * The default: one thread. Measured here (docs/performance.md), tfjs's threaded build splits only
 * 2-D matMul and conv2d and was 0–30 % slower on a loaded 2-core machine; `auto` is opt-in until
 * data-parallel passes exist.
 */
export const defaultThreads: ThreadsChoice = 1;

/** tfjs-backend-wasm pre-creates 8 pthread workers and caps its XNNPACK pool there. */
export const maxWasmThreads = 8;

/** The thread budget `choice` means on this machine. */
export function threadBudget(choice: ThreadsChoice): number {
  return choice === 'auto' ? Math.max(1, availableParallelism()) : choice;
}

/** Threads for each of `jobs` processes computing at once: the budget split, at least one each. */
export function threadsPerProcess(choice: ThreadsChoice, jobs = 1): number {
  const share = Math.floor(threadBudget(choice) / Math.max(1, Math.floor(jobs)));
  return Math.min(maxWasmThreads, Math.max(1, share));
}
