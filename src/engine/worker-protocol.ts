// Messages between a run or sweep process and its stage worker processes (child_process.fork, IPC).
// A task names a node by its hash inside one trial's recipe (file + overrides): the worker plans
// that recipe itself, takes the node's inputs from the cache (they are complete before the task
// is sent) and leaves its output in the cache. The cache is the only data channel.
import { ErrorCode, ScalpelError, type SourceLocation } from '../errors.js';
import type { BackendChoice } from '../recipe/types.js';
import type { Verbosity } from './logging.js';

export interface WorkerTask {
  readonly type: 'run';
  readonly id: number;
  readonly recipeFile: string;
  readonly set: readonly string[];
  readonly backend: BackendChoice | undefined;
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

export interface SerializedError {
  readonly code: string;
  readonly message: string;
  readonly hint?: string;
  readonly stageId?: string;
  readonly plugin?: string;
  readonly layer?: string;
  readonly location?: SourceLocation;
}

export type FromWorker =
  | { readonly type: 'ready' }
  | { readonly type: 'done'; readonly id: number; readonly status: 'ran' | 'cached' }
  | { readonly type: 'error'; readonly id: number; readonly error: SerializedError };

const codes = new Set<string>(Object.values(ErrorCode));

export function serializeError(e: unknown): SerializedError {
  if (e instanceof ScalpelError) {
    return {
      code: e.code,
      message: e.message,
      ...(e.hint !== undefined ? { hint: e.hint } : {}),
      ...(e.stageId !== undefined ? { stageId: e.stageId } : {}),
      ...(e.plugin !== undefined ? { plugin: e.plugin } : {}),
      ...(e.layer !== undefined ? { layer: e.layer } : {}),
      ...(e.location !== undefined ? { location: e.location } : {}),
    };
  }
  return {
    code: ErrorCode.Internal,
    message: e instanceof Error ? (e.stack ?? e.message) : String(e),
  };
}

export function deserializeError(s: SerializedError): ScalpelError {
  const code = (codes.has(s.code) ? s.code : ErrorCode.Internal) as ErrorCode;
  return new ScalpelError(code, s.message, {
    ...(s.hint !== undefined ? { hint: s.hint } : {}),
    ...(s.stageId !== undefined ? { stageId: s.stageId } : {}),
    ...(s.plugin !== undefined ? { plugin: s.plugin } : {}),
    ...(s.layer !== undefined ? { layer: s.layer } : {}),
    ...(s.location !== undefined ? { location: s.location } : {}),
  });
}
