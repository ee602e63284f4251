// The inputs a pruner declared it needs: always a model; calibration statistics when it has
// `calibration` needs; the dataset when it sets `requiresDataset`. A missing input is a recipe
// mistake, reported with what to add to `needs`.
import { ErrorCode, ScalpelError } from '../errors.js';
import type { CalibrationNeeds } from '../plugin-api/calibration.js';
import type { Pruner } from '../plugin-api/pruner.js';
import type { Artifact, ArtifactKind, StageContext } from '../plugin-api/stage.js';
import type { Dataset } from '../data/types.js';
import { readDatasetArtifact } from '../data/dataset-artifact.js';
import { readCalibrationArtifact, type CalibrationArtifactData } from './calibration-artifact.js';

export interface PrunerInputs {
  readonly model: Artifact;
  readonly calibration: CalibrationArtifactData | undefined;
  /** The stage the calibration came from. */
  readonly calibrationStage: string | undefined;
  readonly dataset: Dataset | undefined;
  /**
   * Throws when the calibration lacks a statistic the pruner needs for one of `layers` (only
   * the statistics in `only`, when given: sequential pruning computes the others itself).
   */
  checkCalibrationCovers(
    layers: readonly string[],
    only?: readonly (keyof CalibrationNeeds)[],
  ): void;
}

export const statWords: Record<keyof CalibrationNeeds, string> = {
  inputNorms: 'input norms',
  gram: 'the input Gram matrix XᵀX',
  meanGradient: 'the mean gradient',
};

/** Which statistics the pruner asked for. */
export function neededStats(needs: CalibrationNeeds | undefined): (keyof CalibrationNeeds)[] {
  if (needs === undefined) return [];
  return (Object.keys(statWords) as (keyof CalibrationNeeds)[]).filter((k) => needs[k] === true);
}

function single(
  ctx: StageContext<unknown>,
  kind: ArtifactKind,
  pruner: Pruner,
  plugin: string,
  why: string,
  add: string,
): Artifact {
  const found = ctx.inputsOfKind(kind);
  if (found.length === 1) return found[0] as Artifact;
  const ids = found.map((a) => `'${a.stageId}'`).join(', ');
  throw new ScalpelError(
    ErrorCode.Graph,
    found.length === 0
      ? `stage '${ctx.stageId}': pruner '${pruner.name}' (plugin '${plugin}') needs ${why}, but no stage in \`needs\` produces a '${kind}'`
      : `stage '${ctx.stageId}': pruner '${pruner.name}' needs one '${kind}' input, but ${ids} all produce one`,
    {
      stageId: ctx.stageId,
      plugin,
      hint: found.length === 0 ? add : `keep only one of ${ids} in \`needs\``,
    },
  );
}

export async function loadPrunerInputs(
  ctx: StageContext<unknown>,
  pruner: Pruner,
  plugin: string,
): Promise<PrunerInputs> {
  const model = single(
    ctx,
    'model',
    pruner,
    plugin,
    'a model',
    'add the stage that loads or trains the model (e.g. a `load-model` stage) to `needs`',
  );
  const stats = neededStats(pruner.calibration);
  let calibration: CalibrationArtifactData | undefined;
  let calibrationStage = '';
  if (stats.length > 0) {
    const art = single(
      ctx,
      'calibration',
      pruner,
      plugin,
      `calibration statistics (${stats.map((s) => statWords[s]).join(', ')})`,
      "add a `calibrate` stage (uses: calibrate, needs: [<model>, <dataset>]) and list it in this stage's `needs`",
    );
    calibrationStage = art.stageId;
    calibration = await readCalibrationArtifact(art);
  }
  let dataset: Dataset | undefined;
  if (pruner.requiresDataset === true) {
    const art = single(
      ctx,
      'dataset',
      pruner,
      plugin,
      'the training data',
      'add the `load-dataset` stage to `needs`',
    );
    dataset = await readDatasetArtifact(art);
  }
  return {
    model,
    calibration,
    calibrationStage: calibration !== undefined ? calibrationStage : undefined,
    dataset,
    checkCalibrationCovers(layers, only) {
      if (calibration === undefined) return;
      const checked = only === undefined ? stats : stats.filter((s) => only.includes(s));
      for (const name of layers) {
        const c = calibration.layers.get(name);
        const missing = checked.filter((s) => c?.[s] === undefined);
        if (missing.length > 0) {
          throw new ScalpelError(
            ErrorCode.Stage,
            `stage '${ctx.stageId}': calibration from stage '${calibrationStage}' has no ${missing.map((s) => statWords[s]).join(' or ')} for layer '${name}', which pruner '${pruner.name}' needs`,
            {
              stageId: ctx.stageId,
              layer: name,
              hint: `let the calibrate stage compute ${missing.join(', ')} for this layer (its layer selection must cover every layer this stage prunes)`,
            },
          );
        }
      }
    },
  };
}
