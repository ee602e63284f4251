// finetune: train a pruned model while every pruned weight stays exactly 0.0 — the masks are
// re-applied (a select, not a multiply) after every optimizer step. Masks come from the model
// artifact; a model without masks keeps its existing exact zeros (masks derived from them).
import { readModelArtifact, writeModelArtifact } from '../models/model-artifact.js';
import { listPrunableLayers, readKernel } from '../models/prunable-layers.js';
import { defineStage } from '../plugin-api/plugin.js';
import type { StageContext, StageResult } from '../plugin-api/stage.js';
import { readSchema } from '../util/schemas.js';
import { runTraining, type TrainingParams } from './train.js';

export const finetuneStage = defineStage<TrainingParams>({
  name: 'finetune',
  version: '1',
  description: 'Fine-tune a pruned model; pruned weights stay exactly zero',
  schema: readSchema('stages/finetune.schema.json'),
  output: 'model',
  inputs: [{ kind: 'model' }, { kind: 'dataset' }],
  async run(ctx: StageContext<TrainingParams>): Promise<StageResult> {
    const { model, masks: given } = await readModelArtifact(ctx.input('model'));
    try {
      let masks = given;
      let source = 'artifact';
      if (masks.size === 0) {
        source = 'zeros';
        masks = new Map(
          listPrunableLayers(model).map((l) => [
            l.name,
            Uint8Array.from(readKernel(model, l.name), (w) => (w === 0 ? 0 : 1)),
          ]),
        );
        ctx.log.info('the input model has no masks: keeping its existing exact zeros at zero');
      }
      const metrics = await runTraining(ctx, model, masks);
      const manifest = await writeModelArtifact(
        ctx.outDir,
        model,
        source === 'artifact' ? masks : undefined,
      );
      return { kind: 'model', manifest, metrics: { ...metrics, masks: source } };
    } finally {
      model.dispose();
    }
  },
});
