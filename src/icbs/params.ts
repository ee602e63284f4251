// The iCBS parameters (schemas/pruners/icbs.schema.json; defaults are the authors' settings for
// the Fashion-MNIST MLP, docs: icbs.md). `density`, `layers` and `seed` are the prune stage's
// common parameters and reach the pruner through args.layers / args.seed.
import type { HessianKind } from '../models/block-hessian.js';
import type { NMPattern } from '../pruning/select-mask.js';
import { readSchema, schemaDefaults } from '../util/schemas.js';

export type InitMethod = 'magnitude' | 'wanda' | 'gradient' | 'random';
export type InitGranularity = 'layer' | 'per-output' | 'per-input';
export type SelectionMethod = 'random' | 'magnitude' | 'wanda' | 'gradient';

export interface SolverSpec {
  /** Registered solver name (sa, exhaustive, external, or a plugin's). */
  readonly uses: string;
  readonly [param: string]: unknown;
}

// A type alias, not an interface: Pruner<P> needs P assignable to Record<string, unknown>.
export type IcbsParams = {
  readonly init: { readonly method: InitMethod; readonly granularity: InitGranularity };
  /** Training samples used for the wanda / gradient statistics of init and selection. */
  readonly initSamples: number;
  readonly selection: SelectionMethod;
  readonly blockSize: number;
  readonly k: number;
  readonly steps: number;
  readonly epochs: number;
  readonly batchSize: number;
  readonly hessian: HessianKind;
  readonly gradMultiplier: number;
  readonly ridgeMultiplier: number;
  readonly tabuFraction: number;
  readonly fix: { readonly prune: number; readonly keep: number };
  readonly minStepsPerLayer: number;
  readonly solver: SolverSpec;
  /** Evaluate every N steps (0: only before the first and after the last step). */
  readonly evaluateEvery: number;
  readonly evaluateOn: { readonly split: string; readonly samples: number };
  /** Split the step batches come from. */
  readonly trainSplit: string;
  /**
   * N:M mode: the initial mask keeps `keep` of every `of` consecutive input weights of an output
   * unit, and every block is whole groups whose counts the solver keeps (group-selection.ts).
   */
  readonly pattern?: NMPattern;
};

/**
 * The authors' settings: the defaults of schemas/pruners/icbs.schema.json, read from it so the two
 * cannot disagree. Every field but `pattern` has one there; test/util/schema-defaults.test.ts
 * checks that, and that these defaults pass the schema.
 */
export const icbsDefaults = schemaDefaults(readSchema('pruners/icbs.schema.json')) as IcbsParams;

/** Params with every missing field taken from the defaults (for callers that bypass the schema). */
export function withDefaults(p: Partial<IcbsParams> | Record<string, unknown>): IcbsParams {
  const q = p as Partial<IcbsParams>;
  return {
    ...icbsDefaults,
    ...q,
    init: { ...icbsDefaults.init, ...(q.init ?? {}) },
    fix: { ...icbsDefaults.fix, ...(q.fix ?? {}) },
    evaluateOn: { ...icbsDefaults.evaluateOn, ...(q.evaluateOn ?? {}) },
    solver: q.solver ?? icbsDefaults.solver,
  };
}
