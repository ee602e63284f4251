// `uses: icbs`: the iCBS pruner as a stage type of its own. The same parameters as
// `uses: prune` with `method: icbs` (schemas/stages/icbs.schema.json = the prune stage's common
// parameters + schemas/pruners/icbs.schema.json; a test keeps them in step) and the same run:
// runPruner loads the model and dataset, selects the layers, runs iCBS, checks and applies the
// masks, and writes the pruned model with iCBS's record in the metrics.
import { icbsPruner } from '../icbs/pruner.js';
import { solverIdentity } from '../icbs/solver-choice.js';
import { defineStage } from '../plugin-api/plugin.js';
import type { StageContext, StageResult, StageType } from '../plugin-api/stage.js';
import { runPruner } from '../pruning/run-pruner.js';
import { layerDensitiesCalibrationReason } from '../pruning/layer-densities.js';
import { icbsStageSchema, icbsStageSchemaFor } from '../icbs/schema.js';

const icbsInputs: NonNullable<StageType['inputs']> = [{ kind: 'model' }, { kind: 'dataset' }];

export const icbsStage = defineStage<Record<string, unknown>>({
  name: 'icbs',
  // 2: a model that is already pruned keeps its pruned weights pruned (round-start-mask.ts).
  version: '2',
  description:
    'Prune with iCBS (iterative Combinatorial Brain Surgeon): block QUBOs over a one-shot initial mask',
  get schema() {
    return icbsStageSchema();
  },
  schemaFor: icbsStageSchemaFor,
  // As `uses: prune` with `method: icbs`: the pruner's version and its solver's identity.
  fingerprint: (params, ctx) => ({
    pruner: 'icbs',
    version: icbsPruner.version,
    solver: solverIdentity(params, ctx.registry),
  }),
  output: 'model',
  inputs: icbsInputs,
  // `layerDensities: owl` reads calibration input norms, so a calibrate stage is then required.
  inputsFor(params) {
    const reason = layerDensitiesCalibrationReason(params);
    return reason !== undefined
      ? [{ kind: 'model' }, { kind: 'dataset' }, { kind: 'calibration', reason }]
      : icbsInputs;
  },
  async run(ctx: StageContext<Record<string, unknown>>): Promise<StageResult> {
    return runPruner(icbsPruner, ctx, { origin: 'builtin' });
  },
});
