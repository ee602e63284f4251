// train: build the model the recipe describes (or take a model input) and train it with the shared
// loop (src/models/training-loop.ts). Output: a 'model' artifact; metrics: the loss/accuracy curve.
import { ErrorCode, ScalpelError } from '../errors.js';
import { buildModel, type ModelSpec } from '../models/model-spec.js';
import { writeModelArtifact } from '../models/model-artifact.js';
import { TfjsLayersModel } from '../models/tfjs-layers/layers-model.js';
import { existsSync } from 'node:fs';
import { HfCausalLmModel } from '../models/hf/causal-lm-model.js';
import { join } from 'node:path';
import { HfCheckpointModel } from '../models/hf/load-checkpoint.js';
import { configJsonOf } from '../models/hf/config-json.js';
import { datasetTokenizerDir } from '../data/text/tokenizer-files.js';
import { parseHfConfig } from '../models/hf/hf-config.js';
import { initialWeights } from '../models/hf/init-weights.js';
import { HfImageClassifierModel } from '../models/hf/image-classifier-model.js';
import { parseVitConfig, vitConfigJson } from '../models/hf/vit-config.js';
import { initialVitWeights } from '../models/hf/vit-init.js';
import type { PrunableModel } from '../plugin-api/model.js';
import type { Rng } from '../util/rng.js';
import { sliceSamples } from '../data/batches.js';
import { augmentableImage, type TrainingAugment } from '../data/augment.js';
import { requireSplit } from '../data/dataset-artifact.js';
import type { Dataset } from '../plugin-api/dataset.js';
import { createOptimizer, trainLoop, type TrainLoopOptions } from '../models/training-loop.js';
import { defineStage } from '../plugin-api/plugin.js';
import type { StageContext, StageResult } from '../plugin-api/stage.js';
import { readSchema } from '../util/schemas.js';
import { checkData, loadDatasetInput, loadModelInput, splitSamples } from './stage-inputs.js';
import { runStepTraining } from './step-training.js';
import { workerMicroBatches } from '../parallel/training.js';
import type { TrainingParams } from './training-params.js';

/** A causal LM from scratch: its config.json as an object (see schemas/stages/train.schema.json). */
export type HfModelSpec = {
  family: 'hf-causal-lm';
  config: Record<string, unknown>;
  initializerRange?: number;
};

/** A ViT/DeiT image classifier from scratch: its config.json as an object. */
export type HfImageModelSpec = {
  family: 'hf-image-classifier';
  config: Record<string, unknown>;
  /** Overrides the config's initializer_range. */
  initializerRange?: number;
};

export type TrainParams = TrainingParams & {
  model?: ModelSpec | HfModelSpec | HfImageModelSpec;
};

/** A vision transformer initialised as transformers does, seeded from `rng`. */
function buildImageClassifier(
  ctx: StageContext<TrainParams>,
  spec: HfImageModelSpec,
  rng: Rng,
): PrunableModel {
  const where = `stages.${ctx.stageId}.with.model.config`;
  const parsed = parseVitConfig(spec.config, where);
  const range = spec.initializerRange;
  const config = range === undefined ? parsed : { ...parsed, initializerRange: range };
  return new HfImageClassifierModel(config, initialVitWeights(config, rng), {
    configJson: { ...vitConfigJson(config), ...spec.config },
    configFile: where,
  });
}

/**
 * The model `with.model` describes, with weights initialised from the stage Rng. A language model
 * takes the tokenizer its dataset was tokenized with (saved with it, as HF checkpoints carry theirs).
 */
function buildFromSpec(
  ctx: StageContext<TrainParams>,
  spec: NonNullable<TrainParams['model']>,
): PrunableModel {
  const rng = ctx.rng.fork('init');
  if ('family' in spec && spec.family === 'hf-image-classifier')
    return buildImageClassifier(ctx, spec, rng);
  if ('family' in spec) {
    const config = parseHfConfig(spec.config, `stages.${ctx.stageId}.with.model.config`);
    const tokenizerDir = join(ctx.input('dataset').dir, datasetTokenizerDir);
    const weights = initialWeights(config, rng, spec.initializerRange);
    if (!existsSync(tokenizerDir)) return new HfCausalLmModel(config, weights);
    return new HfCheckpointModel(
      config,
      weights,
      {},
      {
        dir: tokenizerDir,
        configJson: { ...configJsonOf(config), ...spec.config },
        dtypes: new Map(),
      },
    );
  }
  return new TfjsLayersModel(buildModel(spec, rng, `stage '${ctx.stageId}'`));
}

/** The stage's `augment`, checked against the training split (images only), or undefined. */
function trainingAugment(
  ctx: StageContext<TrainingParams>,
  dataset: Dataset,
): TrainingAugment | undefined {
  const options = ctx.params.augment;
  if (options === undefined) return undefined;
  const split = requireSplit(dataset, ctx.params.split, ctx.stageId);
  return { options, image: augmentableImage(dataset, split, `stage '${ctx.stageId}'`) };
}

/**
 * Train `model` in place on the stage's dataset input; shared with finetune. `gradual`: finetune's
 * gradual pruning, given the number of optimizer steps the epochs make (epoch mode only).
 */
export async function runTraining(
  ctx: StageContext<TrainingParams>,
  model: PrunableModel,
  masks: ReadonlyMap<string, Uint8Array> | undefined,
  gradual?: (totalSteps: number) => TrainLoopOptions['remask'],
): Promise<Record<string, unknown>> {
  const p = ctx.params;
  const dataset = await loadDatasetInput(ctx);
  const all = splitSamples(ctx, dataset, p.split, p.samples);
  checkData(ctx, model, dataset, all);
  const augment = trainingAugment(ctx, dataset);
  if (p.steps !== undefined) return runStepTraining(ctx, model, masks, dataset, all, augment);
  const held = Math.floor(all.count * p.validationSplit);
  const train = sliceSamples(all, 0, all.count - held);
  const validation = held > 0 ? sliceSamples(all, all.count - held, all.count) : undefined;
  const optimizer = createOptimizer({
    name: p.optimizer,
    learningRate: p.learningRate,
    momentum: p.momentum,
  });
  const stepsPerEpoch = Math.ceil(train.count / p.batchSize);
  const remask = gradual?.(p.epochs * stepsPerEpoch);
  const bar = ctx.progress(
    `${p.epochs} epoch${p.epochs === 1 ? '' : 's'} × ${stepsPerEpoch} steps`,
    p.epochs * stepsPerEpoch,
  );
  try {
    const curve = await trainLoop({
      model,
      train,
      validation,
      optimizer,
      epochs: p.epochs,
      batchSize: p.batchSize,
      microBatches: p.microBatches,
      microBatchRunner: workerMicroBatches,
      rng: ctx.rng.fork('train-loop'),
      augment,
      masks,
      ...(remask !== undefined ? { remask } : {}),
      signal: ctx.signal,
      where: `stage '${ctx.stageId}'`,
      onStep: (_step, loss) => bar.tick(1, { loss: Number(loss.toFixed(4)) }),
      onEpoch: (r) => {
        const val =
          r.valAccuracy !== undefined
            ? `, val loss ${r.valLoss?.toFixed(4)}, val acc ${(100 * r.valAccuracy).toFixed(2)}%`
            : '';
        const acc = r.accuracy !== undefined ? `, acc ${(100 * r.accuracy).toFixed(2)}%` : '';
        ctx.log.info(
          `epoch ${r.epoch}/${p.epochs}: loss ${r.loss.toFixed(4)}${acc}${val} (${r.seconds.toFixed(1)} s)`,
        );
        ctx.event('epoch', { ...r });
      },
    });
    const last = curve[curve.length - 1];
    return {
      epochs: p.epochs,
      trainSamples: train.count,
      validationSamples: held,
      ...(augment !== undefined ? { augment: augment.options } : {}),
      final: last ?? {},
      curve,
    };
  } finally {
    bar.done();
    optimizer.dispose();
  }
}

export const trainStage = defineStage<TrainParams>({
  name: 'train',
  version: '1',
  description: 'Train a model described in the recipe (or continue a model input) on a dataset',
  schema: readSchema('stages/train.schema.json'),
  output: 'model',
  inputs: [{ kind: 'dataset' }, { kind: 'model', optional: true }],
  async run(ctx: StageContext<TrainParams>): Promise<StageResult> {
    const inputs = ctx.inputsOfKind('model');
    if (inputs.length > 1) {
      throw new ScalpelError(
        ErrorCode.Stage,
        `stage '${ctx.stageId}' got ${inputs.length} model inputs; it trains one`,
        { stageId: ctx.stageId },
      );
    }
    const given = inputs[0];
    if (given !== undefined && ctx.params.model !== undefined) {
      throw new ScalpelError(
        ErrorCode.Stage,
        `stage '${ctx.stageId}' has both a model input (${given.stageId}) and with.model`,
        {
          stageId: ctx.stageId,
          hint: 'remove with.model to continue training the input model, or remove the model stage from needs',
        },
      );
    }
    let model: PrunableModel;
    if (given !== undefined) {
      model = await loadModelInput(ctx, given);
      if (model.masks.size > 0) {
        ctx.log.warn(
          `the input model carries pruning masks; train ignores them (pruned weights will grow back) — use the finetune stage to keep them`,
        );
      }
    } else if (ctx.params.model !== undefined) {
      model = buildFromSpec(ctx, ctx.params.model);
    } else {
      throw new ScalpelError(ErrorCode.Stage, `stage '${ctx.stageId}' has nothing to train`, {
        stageId: ctx.stageId,
        hint: 'describe the model under with.model, or add a load-model stage to needs',
      });
    }
    try {
      const metrics = await runTraining(ctx, model, undefined);
      model.masks.clear(); // train lets pruned weights grow back: the result carries no masks
      const manifest = await writeModelArtifact(ctx.outDir, model, ctx.registry);
      return { kind: 'model', manifest, metrics };
    } finally {
      model.dispose();
    }
  },
});
