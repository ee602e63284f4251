// The recipe after loading: parsed (positions kept), overrides applied, validated, defaults
// filled, plugins loaded. Produced by loadRecipe (src/recipe/load-recipe.ts), consumed by the
// engine (src/engine). Kept in its own file so both sides compile against it.
import type { SourceLocation } from '../errors.js';
import type { StageType } from '../plugin-api/stage.js';
import type { Registry } from '../registry/registry.js';

export type BackendChoice = 'auto' | 'tensorflow' | 'wasm' | 'cpu';
/** `threads:` of a recipe: data-parallel worker threads, `auto` (every core) or a count (src/models/threads.ts). */
export type ThreadsChoice = 'auto' | number;

export interface ResolvedStage {
  readonly id: string;
  readonly uses: string;
  readonly needs: readonly string[];
  /** `with` after validation against the stage type's schema, defaults filled in. */
  readonly params: Record<string, unknown>;
  readonly type: StageType;
}

export interface ResolvedRecipe {
  /** Absolute path of the recipe file. */
  readonly file: string;
  /** Directory of the recipe file (base for relative paths). */
  readonly dir: string;
  readonly name: string;
  readonly version: number;
  readonly seed: number;
  readonly backend: BackendChoice;
  /** The run's data-parallel thread budget (`threads:`, or the --threads override); absent means 1. */
  readonly threads?: ThreadsChoice;
  /** Plugin specifiers as written (paths relative to `dir`, or package names). */
  readonly plugins: readonly string[];
  /** Stages in file order. */
  readonly stages: readonly ResolvedStage[];
  /** The `sweep:` section, if any (validated by src/sweep/sweep-spec.ts). */
  readonly sweep: Record<string, unknown> | undefined;
  /** The whole recipe as plain JSON with defaults filled: what is written to recipe.resolved.yaml and hashed. */
  readonly resolved: Record<string, unknown>;
  /** Built-in stage types, pruners and solvers plus those of the recipe's plugins. */
  readonly registry: Registry;
  /** Source position of a dotted path (e.g. 'stages.prune.needs.1'); falls back to the nearest parent that exists. */
  locate(path: string): SourceLocation;
}

export interface LoadRecipeOptions {
  /** `--set path=value` overrides, applied in order; value parsed as YAML. */
  set?: readonly string[];
  /** Overrides the recipe's `backend`. */
  backend?: BackendChoice;
  /** Overrides the recipe's `threads`. */
  threads?: ThreadsChoice;
  /** Registry to start from (tests); default: a fresh registry with all built-ins. */
  registry?: Registry;
}
