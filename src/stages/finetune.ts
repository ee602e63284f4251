// finetune: train a pruned model while every pruned weight stays exactly 0.0 — the masks are
// re-applied (a select, not a multiply) after every optimizer step. Masks come from the model
// artifact; a model without masks keeps its existing exact zeros (masks derived from them).
// With `gradual:` it also prunes while it trains, on a polynomial schedule (gradual-pruning.ts).
import { writeModelArtifact } from '../models/model-artifact.js';
import { defineStage } from '../plugin-api/plugin.js';
import type { StageContext, StageResult } from '../plugin-api/stage.js';
import { readSchema } from '../util/schemas.js';
import { runTraining } from './train.js';
import { loadModelInput } from './stage-inputs.js';
import { gradualPruning, type FinetuneParams } from './gradual-pruning.js';

export const finetuneStage = defineStage<FinetuneParams>({
  name: 'finetune',
  version: '1',
  description:
    'Fine-tune a pruned model; pruned weights stay exactly zero (gradual: prune while training)',
  schema: readSchema('stages/finetune.schema.json'),
  output: 'model',
  inputs: [{ kind: 'model' }, { kind: 'dataset' }],
  async run(ctx: StageContext<FinetuneParams>): Promise<StageResult> {
    const model = await loadModelInput(ctx);
    try {
      let masks: ReadonlyMap<string, Uint8Array> = new Map(model.masks);
      let source = 'artifact';
      if (masks.size === 0) {
        source = 'zeros';
        masks = new Map(
          model.operators.map((l) => [
            l.name,
            Uint8Array.from(model.readWeight(l.name), (w) => (w === 0 ? 0 : 1)),
          ]),
        );
        ctx.log.info('the input model has no masks: keeping its existing exact zeros at zero');
      }
      // Set up after the masks: gradual pruning starts from them.
      const gradual =
        ctx.params.gradual !== undefined
          ? gradualPruning(ctx, model, masks, ctx.params.gradual)
          : undefined;
      // The training time, so a comparison can add it to the pruning time (compare-table).
      const started = performance.now();
      const metrics = await runTraining(ctx, model, masks, gradual?.hook);
      const timeMs = performance.now() - started;
      const pruned = gradual?.finish();
      const manifest = await writeModelArtifact(ctx.outDir, model, ctx.registry);
      // The masks are the pruning stage's: keep its record (method, OWL target densities) so
      // that export's sparsity.json still says how the model was pruned.
      const pruning = pruned?.pruning ?? ctx.inputsOfKind('model')[0]?.manifest.pruning;
      return {
        kind: 'model',
        manifest: { ...manifest, ...(pruning !== undefined ? { pruning } : {}) },
        metrics: { ...metrics, ...pruned?.metrics, masks: source, timeMs },
      };
    } finally {
      model.dispose();
    }
  },
});
