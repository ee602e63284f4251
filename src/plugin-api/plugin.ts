// A plugin module's default export (or its module namespace) has this shape.
import type { StageType } from './stage.js';
import type { Pruner } from './pruner.js';
import type { QuboSolver } from './solver.js';
import type { ModelFamily } from './model.js';

export interface ScalpelPlugin {
  /** Shown in errors and `scalpel stages`; defaults to the module path or package name. */
  name?: string;
  // Entries with concrete parameter types fit here because contract methods are bivariant in P;
  // the registry validates params against each schema before any entry sees them.
  stages?: readonly StageType[];
  pruners?: readonly Pruner[];
  solvers?: readonly QuboSolver[];
  /** Model families: how to load, save and run a kind of model (load-model's `format`). */
  families?: readonly ModelFamily[];
}

/** Identity helpers that give plugin authors type checking. */
export function definePlugin(p: ScalpelPlugin): ScalpelPlugin {
  return p;
}
export function defineStage<P>(s: StageType<P>): StageType<P> {
  return s;
}
export function definePruner<P>(p: Pruner<P>): Pruner<P> {
  return p;
}
export function defineSolver<P>(s: QuboSolver<P>): QuboSolver<P> {
  return s;
}
export function defineModelFamily(f: ModelFamily): ModelFamily {
  return f;
}
