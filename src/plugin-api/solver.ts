// The QUBO solver contract: minimise xᵀQx over binary x with exactly k ones (and, for solvers
// that declare `groupConstraints`, exactly `ones[g]` ones in every group g of variables).
import type { JsonSchema } from './schema.js';
import type { Logger } from './stage.js';

export interface CardinalityQubo {
  readonly n: number;
  /** n × n row-major, symmetric. */
  readonly Q: Float32Array;
  /** Number of ones required. */
  readonly k: number;
  /** Starting state (k ones); default: the first k entries are 1. */
  readonly initial?: Uint8Array;
  /**
   * Optional per-group cardinalities (iCBS N:M blocks: each group is one N:M group of a layer).
   * Given only to solvers with `groupConstraints: true`; `initial` then satisfies them.
   */
  readonly groups?: QuboGroups;
}

/** Every variable belongs to one group; group g must hold exactly ones[g] ones (Σ ones = k). */
export interface QuboGroups {
  /** group[i] ∈ [0, ones.length): the group of variable i. */
  readonly group: Int32Array;
  /** Required number of ones per group. */
  readonly ones: Int32Array;
}

export interface SolveResult {
  /** 0/1 per variable, exactly k ones. */
  x: Uint8Array;
  /** xᵀQx of `x`, computed in float64. */
  energy: number;
  /** Solver-specific numbers (restarts run, sweeps done, acceptance…). */
  stats?: Record<string, number>;
}

export interface SolveContext {
  readonly seed: number;
  readonly signal?: AbortSignal;
  readonly log?: Logger;
}

export interface QuboSolver<P = Record<string, unknown>> {
  readonly name: string;
  /**
   * Bump it when `solve` can return different solutions for the same problem, params and seed:
   * the solver's name, version and plugin are part of the hash of every node that uses it, so a
   * changed solver reruns those nodes instead of reusing their cached results.
   */
  readonly version: string;
  readonly description: string;
  /** JSON Schema of the solver's parameters (besides `uses`). */
  readonly schema: JsonSchema;
  /**
   * True when `solve` honours `problem.groups` (every group keeps its number of ones). Callers
   * never pass groups to a solver without it (iCBS refuses N:M mode with such a solver).
   */
  readonly groupConstraints?: boolean;
  /**
   * Largest problem (n variables) the solver accepts, if it has a limit. iCBS then refuses at
   * validate time a `blockSize` above it, instead of failing mid-run.
   */
  readonly maxVariables?: number;
  solve(problem: CardinalityQubo, params: P, ctx: SolveContext): Promise<SolveResult>;
  /**
   * Release worker threads etc. Called once when a run or sweep ends (also when nothing used the
   * solver); a later `solve` (the next run in the same process) must start them again.
   */
  close?(): Promise<void>;
}
