// Messages between the annealer's main side (pool.ts) and its worker threads (sa-worker.ts).
import type { ChainResult } from './anneal.js';
import type { SharedLayout, WasmMemory } from './wasm-kernel.js';

/** One restart (one chain) of one solve call. */
export interface RestartTask {
  readonly type: 'run';
  /** Identifies the solve call: the worker rebuilds its view of the problem when it changes. */
  readonly jobId: number;
  readonly restart: number;
  /** Shared memory holding S = Q + Qᵀ (see wasm-kernel.ts for the layout). */
  readonly memory: WasmMemory;
  readonly layout: SharedLayout;
  /** diag(Q), float64. */
  readonly diag: Float64Array;
  readonly initial: Uint8Array;
  readonly betas: Float64Array;
  readonly sweeps: number;
  readonly descent: boolean;
  /** xoshiro128** state of this chain. */
  readonly seedState: Int32Array;
  /** Group of every variable when the problem has per-group cardinalities (group-anneal.ts). */
  readonly groups?: Int32Array;
}

/** A finished restart: its chain's result. */
export interface RestartDone extends ChainResult {
  readonly type: 'done';
  readonly jobId: number;
  readonly restart: number;
}

export interface RestartFailed {
  readonly type: 'failed';
  readonly jobId: number;
  readonly restart: number;
  readonly message: string;
}

export type WorkerReply = RestartDone | RestartFailed;
