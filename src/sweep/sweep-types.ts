// The sweep specification after validation, and the trials it expands into. Produced by
// sweep-spec.ts / sweep-expand.ts / sweep-load.ts, consumed by the sweep runner (sweep-graph.ts, sweep-run.ts).
import type { SourceLocation } from '../errors.js';
import type { ResolvedRecipe } from '../recipe/types.js';

export type SweepMethod = 'grid' | 'random';

/** Where a parameter's values come from. */
export type ParameterDomain =
  | { readonly kind: 'values'; readonly values: readonly unknown[] }
  | {
      readonly kind: 'range';
      readonly min: number;
      readonly max: number;
      readonly log: boolean;
      readonly integer: boolean;
      /** Evenly spread points (linear or log); required in a grid. */
      readonly steps: number | undefined;
    };

export interface SweepParameter {
  /** The key as written under `parameters:` (a recipe path, or a name when `paths` is given). */
  readonly name: string;
  /** Recipe paths (dotted) that receive the value. */
  readonly paths: readonly string[];
  readonly domain: ParameterDomain;
  /** Where the parameter is written (for errors). */
  readonly location: SourceLocation;
}

export interface SweepSpec {
  readonly method: SweepMethod;
  /** Number of draws for `random`. */
  readonly samples: number | undefined;
  /** In the order written. */
  readonly parameters: readonly SweepParameter[];
  readonly repeats: number;
  /** The recipe path the repeat index is added to (default `seed`). */
  readonly seedPath: string;
  /** Combinations to leave out: parameter name → value; all must match. */
  readonly exclude: readonly Readonly<Record<string, unknown>>[];
  /** The sweep section as written with defaults filled (recorded in sweep.resolved.yaml). */
  readonly resolved: Record<string, unknown>;
  /** Position of a path inside the sweep section (e.g. ['parameters', 'density']). */
  locate(path: readonly (string | number)[]): SourceLocation;
}

/** One combination of parameter values, before seed repeats. */
export type Combination = Readonly<Record<string, unknown>>;

/** One trial: a combination and a repeat index. */
export interface TrialSpec {
  /** 0-based position in the expansion (stable for the same spec and recipe seed). */
  readonly index: number;
  /** Parameter name → value. */
  readonly parameters: Combination;
  readonly repeat: number;
  /** The value written at `seedPath`. */
  readonly seed: number;
  /** The `--set` strings that turn the base recipe into this trial. */
  readonly overrides: readonly string[];
}

/** A trial whose recipe loaded and validated. */
export interface Trial extends TrialSpec {
  readonly recipe: ResolvedRecipe;
}

/** Everything `scalpel sweep` needs, validated before anything runs. */
export interface SweepDefinition {
  /** Name for the output directory (sweeps/<name>-<ts>). */
  readonly name: string;
  /** The file given on the command line (a recipe with `sweep:` or a sweep file). */
  readonly file: string;
  /** The recipe the trials derive from. */
  readonly recipeFile: string;
  /** `--set` overrides given on the command line, applied to every trial before its own. */
  readonly baseOverrides: readonly string[];
  readonly base: ResolvedRecipe;
  readonly spec: SweepSpec;
  readonly trials: readonly Trial[];
}
