// What stages can look up at run time. Implemented by src/registry/registry.ts.
import type { StageType } from './stage.js';
import type { Pruner } from './pruner.js';
import type { QuboSolver } from './solver.js';
import type { ModelFamily } from './model.js';

export interface RegistryView {
  /** Throws a ScalpelError (E_UNKNOWN_NAME, with the closest name as hint) if not registered. */
  stage(name: string): StageType;
  pruner(name: string): Pruner;
  solver(name: string): QuboSolver;
  family(name: string): ModelFamily;
  stageNames(): string[];
  prunerNames(): string[];
  solverNames(): string[];
  familyNames(): string[];
  /** The plugin a name came from ('builtin' for scalpel's own). */
  originOf(kind: 'stage' | 'pruner' | 'solver' | 'family', name: string): string;
}
