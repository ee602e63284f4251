// The `steps:` mode of train and finetune (language models): a fixed number of AdamW updates over
// a seeded cursor, warmup + cosine schedule, optional clipping, evaluation on a held-out split and
// checkpoints in the node's scratch directory, so an interrupted run of the same node resumes and
// still gives the bit-identical result (src/models/training/step-loop.ts).
import { basename } from 'node:path';
import { ErrorCode, ScalpelError } from '../errors.js';
import { requireSplit } from '../data/dataset-artifact.js';
import { sliceSamples } from '../data/batches.js';
import type { Dataset, Samples } from '../plugin-api/dataset.js';
import type { PrunableModel } from '../plugin-api/model.js';
import type { StageContext } from '../plugin-api/stage.js';
import { runStepLoop } from '../models/training/step-loop.js';
import { workerMicroBatches } from '../parallel/training.js';
import type { TrainingParams } from './training-params.js';
import { stepTrainingDefaults } from './step-training-defaults.js';
import type { TrainingAugment } from '../data/augment.js';

function evaluationSplit(ctx: StageContext<TrainingParams>, dataset: Dataset): Samples | undefined {
  const p = ctx.params;
  if (p.evaluateEvery === undefined) return undefined;
  const name = p.evaluateSplit ?? stepTrainingDefaults.evaluateSplit;
  const split = requireSplit(dataset, name, ctx.stageId);
  const count = Math.min(p.evaluateSamples ?? split.count, split.count);
  return sliceSamples(split, 0, count);
}

export async function runStepTraining(
  ctx: StageContext<TrainingParams>,
  model: PrunableModel,
  masks: ReadonlyMap<string, Uint8Array> | undefined,
  dataset: Dataset,
  train: Samples,
  augment?: TrainingAugment,
): Promise<Record<string, unknown>> {
  const p = ctx.params;
  const steps = p.steps as number;
  if (p.optimizer !== 'adam') {
    throw new ScalpelError(
      ErrorCode.RecipeSchema,
      `stage '${ctx.stageId}': steps trains with AdamW; optimizer '${p.optimizer}' is for epochs`,
      {
        stageId: ctx.stageId,
        hint: 'set optimizer: adam (weightDecay turns it into AdamW), or train by epochs',
      },
    );
  }
  const validation = evaluationSplit(ctx, dataset);
  const bar = ctx.progress(`${ctx.stageId}: ${steps} steps`, steps);
  const started = performance.now();
  try {
    const result = await runStepLoop({
      model,
      train,
      validation,
      steps,
      batchSize: p.batchSize,
      microBatches: p.microBatches,
      microBatchRunner: workerMicroBatches,
      schedule: {
        kind: 'warmup-cosine',
        learningRate: p.learningRate,
        minLearningRate: p.minLearningRate ?? stepTrainingDefaults.minLearningRate,
        warmupSteps: p.warmupSteps ?? stepTrainingDefaults.warmupSteps,
        totalSteps: steps,
      },
      optimizer: {
        weightDecay: p.weightDecay ?? stepTrainingDefaults.weightDecay,
        beta2: p.beta2 ?? stepTrainingDefaults.beta2,
      },
      clipNorm: p.clipNorm,
      rng: ctx.rng.fork('train-loop'),
      augment,
      masks,
      curveEvery: p.curveEvery ?? stepTrainingDefaults.curveEvery,
      evaluation:
        p.evaluateEvery !== undefined
          ? { every: p.evaluateEvery, batchSize: p.batchSize }
          : undefined,
      checkpoints:
        p.checkpointEvery !== undefined
          ? { dir: ctx.scratchDir, every: p.checkpointEvery }
          : undefined,
      fingerprint: basename(ctx.scratchDir),
      signal: ctx.signal,
      where: `stage '${ctx.stageId}'`,
      onProgress: (s) =>
        bar.tick(1, {
          loss: Number(s.loss.toFixed(4)),
          lr: Number(s.learningRate.toExponential(2)),
          [`${s.unit}/s`]: Math.round(s.throughput),
        }),
      onEvaluation: (e) => {
        const ppl = e.values.perplexity;
        ctx.log.info(
          `step ${e.step}/${steps}: validation loss ${e.loss.toFixed(4)}${ppl !== undefined ? `, perplexity ${ppl.toFixed(2)}` : ''}`,
        );
        ctx.event('evaluation', { ...e });
      },
      onResume: (step, path) => ctx.log.info(`resuming from step ${step} (${path})`),
    });
    const seconds = (performance.now() - started) / 1000;
    const last = result.curve[result.curve.length - 1];
    ctx.log.info(
      `${ctx.stageId}: ${steps} steps, final loss ${last?.loss.toFixed(4) ?? '?'} (${seconds.toFixed(0)} s in this run)`,
    );
    return {
      steps,
      trainSamples: train.count,
      ...(augment !== undefined ? { augment: augment.options } : {}),
      samplesSeen: result.samples,
      ...(result.tokens > 0 ? { tokensSeen: result.tokens } : {}),
      final: last ?? {},
      curve: result.curve,
      evaluations: result.evaluations,
    };
  } finally {
    bar.done();
  }
}
