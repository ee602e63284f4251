// prune: `uses: prune` with `with: { method: <pruner>, density, layers, …that pruner's params }`.
// Recipes are validated against `schemaFor(registry)`: one branch per registered pruner (common
// parameters + the pruner's own), picked by `method`, so an error names the right pruner. The
// static `schema` is only the common shape.
import { unknownName } from '../error-factories.js';
import type { Pruner } from '../plugin-api/pruner.js';
import type { RegistryView } from '../plugin-api/registry-view.js';
import type { JsonSchema } from '../plugin-api/schema.js';
import type { StageContext, StageResult, StageType } from '../plugin-api/stage.js';
import { buildPruneSchema } from '../pruning/prune-schema.js';
import { neededStats, statWords } from '../pruning/pruner-inputs.js';
import { layerDensitiesCalibrationReason } from '../pruning/layer-densities.js';
import { runPruner } from '../pruning/run-pruner.js';
import { calibrationStatistics } from '../parallel/calibration.js';

export type PruneStageParams = Record<string, unknown> & { method: string };

/** The pruners a registry holds, in name order, with their plugin names. */
function registeredPruners(registry: RegistryView): { pruner: Pruner; origin: string }[] {
  return registry
    .prunerNames()
    .map((name) => ({ pruner: registry.pruner(name), origin: registry.originOf('pruner', name) }));
}

/** The `with` schema of `uses: prune` for the pruners in `registry`. */
export function pruneSchemaFor(registry: RegistryView): JsonSchema {
  return buildPruneSchema(
    registeredPruners(registry).map(({ pruner, origin }) => ({
      name: pruner.name,
      schema: pruner.schemaFor?.(registry) ?? pruner.schema,
      origin,
    })),
  );
}

export const pruneStage: StageType<PruneStageParams> = {
  name: 'prune',
  // 2: a model that is already pruned keeps its pruned weights pruned (LayerToPrune.incoming,
  // which masksFromScores and SparseGPT honour; round-start-mask.ts repairs the others).
  version: '2',
  description:
    "Prune a model with a registered pruner: method magnitude | random | gradient | wanda | sparsegpt | icbs | a plugin's",
  schema: buildPruneSchema([]),
  schemaFor: pruneSchemaFor,
  // The pruner's version and plugin are part of the node hash: upgrading a pruner reruns it. So
  // is what the pruner adds (iCBS: its solver's version and plugin).
  fingerprint(params, ctx) {
    const pruner = ctx.registry.pruner(params.method);
    const uses = pruner.fingerprint?.(params, ctx.registry);
    return {
      pruner: params.method,
      version: pruner.version,
      origin: ctx.registry.originOf('pruner', params.method),
      ...(uses !== undefined ? { uses } : {}),
    };
  },
  output: 'model',
  inputs: [
    { kind: 'model' },
    { kind: 'calibration', optional: true },
    { kind: 'dataset', optional: true },
  ],
  // What the chosen pruner declared it reads, so a missing calibrate or dataset stage in `needs`
  // is a recipe error at validate time rather than a failure after the model has loaded.
  inputsFor(params, registry) {
    if (!registry.prunerNames().includes(params.method)) return pruneStage.inputs;
    const pruner = registry.pruner(params.method);
    const stats = neededStats(pruner.calibration);
    const who = `pruner '${pruner.name}'`;
    const reasons = [
      ...(stats.length > 0 ? [`${who} reads ${stats.map((k) => statWords[k]).join(', ')}`] : []),
      ...[layerDensitiesCalibrationReason(params)].filter((r) => r !== undefined),
    ];
    return [
      { kind: 'model' },
      reasons.length > 0
        ? { kind: 'calibration', reason: reasons.join('; ') }
        : { kind: 'calibration', optional: true },
      pruner.requiresDataset === true
        ? { kind: 'dataset', reason: `${who} reads the training data` }
        : { kind: 'dataset', optional: true },
    ];
  },
  async run(ctx: StageContext<PruneStageParams>): Promise<StageResult> {
    const method = ctx.params.method;
    if (!ctx.registry.prunerNames().includes(method)) {
      // Normally caught by schema validation; reached when a caller skips it.
      throw unknownName('pruner', method, ctx.registry.prunerNames(), {
        prefix: `stage '${ctx.stageId}'`,
        stageId: ctx.stageId,
      });
    }
    return runPruner(ctx.registry.pruner(method), ctx, { statistics: calibrationStatistics });
  },
};
