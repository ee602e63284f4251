// Input handling shared by the stages that run a model on data (train, finetune, calibrate,
// evaluate): the model artifact through its family, the dataset split a stage works on, a subset
// of it, and the task's check that the model accepts the samples.
import { readDatasetArtifact, requireSplit } from '../data/dataset-artifact.js';
import type { Dataset, DatasetSplit, Samples } from '../plugin-api/dataset.js';
import type { PrunableModel } from '../plugin-api/model.js';
import type { Artifact, StageContext } from '../plugin-api/stage.js';
import { sliceSamples } from '../data/batches.js';
import { readModelArtifact } from '../models/model-artifact.js';

export async function loadDatasetInput(ctx: StageContext<unknown>): Promise<Dataset> {
  return readDatasetArtifact(ctx.input('dataset'));
}

/** The model of `artifact` (default: the stage's one model input), read through its family. */
export async function loadModelInput(
  ctx: StageContext<unknown>,
  artifact?: Artifact,
): Promise<PrunableModel> {
  return readModelArtifact(artifact ?? ctx.input('model'), ctx.registry);
}

/** The split named `split`, cut to its first `samples` samples (0 = all). */
export function splitSamples(
  ctx: StageContext<unknown>,
  dataset: Dataset,
  split: string,
  samples: number,
): Samples & { readonly name: string } {
  const s = requireSplit(dataset, split, ctx.stageId);
  if (samples > s.count) {
    ctx.log.warn(
      `asked for ${samples} samples but split '${split}' has ${s.count}; using all of them`,
    );
  }
  return samples > 0 && samples < s.count ? { ...sliceSamples(s, 0, samples), name: s.name } : s;
}

/** Throws the task's clear error when the model cannot take this split's samples. */
export function checkData(
  ctx: StageContext<unknown>,
  model: PrunableModel,
  dataset: Dataset,
  split: DatasetSplit | (Samples & { readonly name: string }),
): void {
  model.task.checkData(dataset, split, `stage '${ctx.stageId}'`);
}
