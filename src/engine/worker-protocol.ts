// Messages between a run or sweep process and its stage worker processes (child_process.fork, IPC).
// A task names a node by its hash inside one trial's recipe (file + overrides): the worker plans
// that recipe itself, takes the node's inputs from the cache (they are complete before the task
// is sent) and leaves its output in the cache. The cache is the only data channel.
import type { SerializedError } from '../errors.js';
import type { BackendChoice } from '../recipe/types.js';
import type { Verbosity } from './logging.js';

export interface WorkerTask {
  readonly type: 'run';
  readonly id: number;
  readonly recipeFile: string;
  readonly set: readonly string[];
  readonly backend: BackendChoice | undefined;
  /** Threads of the worker's backend: its share of the run's budget (threadsPerProcess). */
  readonly threads: number;
  readonly cacheDir: string;
  readonly hash: string;
  readonly overwrite: boolean;
  readonly verbosity: Verbosity;
  /** events.jsonl of the sweep (appended to line by line). */
  readonly eventsFile: string;
}

export interface WorkerAbort {
  readonly type: 'abort';
}

export type ToWorker = WorkerTask | WorkerAbort;

export type FromWorker =
  | { readonly type: 'ready' }
  | { readonly type: 'done'; readonly id: number; readonly status: 'ran' | 'cached' }
  | { readonly type: 'error'; readonly id: number; readonly error: SerializedError };
