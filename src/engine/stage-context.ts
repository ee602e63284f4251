// What a running stage sees (StageContext from the plugin API). How its failures are reported is
// src/registry/stage-error.ts.
import { ErrorCode, ScalpelError } from '../errors.js';
import { resolveRecipePath } from '../recipe/resolve-recipe-path.js';
import type { Artifact, ArtifactKind, Progress, StageContext } from '../plugin-api/stage.js';
import type { RegistryView } from '../plugin-api/registry-view.js';
import { Rng } from '../util/rng.js';
import type { RunLogging } from './logging.js';
import type { ProgressSink } from './progress.js';

/** The seed a stage runs with: its own numeric `with.seed` if it has one, else the recipe seed. */
export function stageSeed(params: Readonly<Record<string, unknown>>, recipeSeed: number): number {
  const own = params['seed'];
  return typeof own === 'number' && Number.isFinite(own) ? own : recipeSeed;
}

export interface StageContextInit {
  readonly stageId: string;
  readonly stageType: string;
  readonly params: Record<string, unknown>;
  readonly inputs: readonly Artifact[];
  readonly outDir: string;
  readonly scratchDir: string;
  readonly seed: number;
  readonly recipeDir: string;
  readonly logging: RunLogging;
  readonly progress: ProgressSink;
  readonly signal: AbortSignal;
  readonly backend: string;
  readonly registry: RegistryView;
}

export function createStageContext(init: StageContextInit): StageContext {
  const { stageId, inputs } = init;
  const describeInputs = (): string =>
    inputs.length === 0
      ? 'it has no inputs (no `needs`)'
      : `its needs provide ${inputs.map((a) => `'${a.stageId}' (${a.kind})`).join(', ')}`;
  return {
    stageId,
    stageType: init.stageType,
    params: init.params,
    inputs,
    input(kind: ArtifactKind): Artifact {
      const found = inputs.filter((a) => a.kind === kind);
      const only = found[0];
      if (found.length === 1 && only !== undefined) return only;
      throw new ScalpelError(
        ErrorCode.Stage,
        found.length === 0
          ? `stage '${stageId}' needs an input of kind '${kind}', but ${describeInputs()}`
          : `stage '${stageId}' expects one input of kind '${kind}', but ${describeInputs()}`,
        {
          stageId,
          hint:
            found.length === 0
              ? `add a stage that produces '${kind}' to stages.${stageId}.needs`
              : `keep only one '${kind}' stage in stages.${stageId}.needs`,
        },
      );
    },
    inputsOfKind(kind: ArtifactKind): Artifact[] {
      return inputs.filter((a) => a.kind === kind);
    },
    outDir: init.outDir,
    scratchDir: init.scratchDir,
    seed: init.seed,
    rng: new Rng(init.seed),
    recipeDir: init.recipeDir,
    resolvePath: (p: string) => resolveRecipePath(init.recipeDir, p),
    log: init.logging.forStage(stageId),
    progress: (label: string, total: number): Progress =>
      init.progress.create(stageId, label, total),
    event: (type: string, data: Record<string, unknown>) => init.logging.event(stageId, type, data),
    signal: init.signal,
    backend: init.backend,
    registry: init.registry,
  };
}
