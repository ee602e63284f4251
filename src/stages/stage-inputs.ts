// Input handling shared by the train, finetune, calibrate and evaluate stages: the dataset split a
// stage works on, a subset of it, and a check that the model accepts its samples.
import type * as tfl from '@tensorflow/tfjs-layers';
import { ErrorCode, ScalpelError } from '../errors.js';
import { readDatasetArtifact, requireSplit } from '../data/dataset-artifact.js';
import type { Dataset } from '../data/types.js';
import type { StageContext } from '../plugin-api/stage.js';
import { sliceSamples, type Samples } from '../data/batches.js';

export async function loadDatasetInput(ctx: StageContext<unknown>): Promise<Dataset> {
  return readDatasetArtifact(ctx.input('dataset'));
}

/** The split named `split`, cut to its first `samples` samples (0 = all). */
export function splitSamples(
  ctx: StageContext<unknown>,
  dataset: Dataset,
  split: string,
  samples: number,
): Samples {
  const s = requireSplit(dataset, split, ctx.stageId);
  if (samples > s.count) {
    ctx.log.warn(
      `asked for ${samples} samples but split '${split}' has ${s.count}; using all of them`,
    );
  }
  return samples > 0 && samples < s.count ? sliceSamples(s, 0, samples) : s;
}

/** Throws a clear error when the model's input shape does not take the dataset's samples. */
export function checkModelInput(
  ctx: StageContext<unknown>,
  model: tfl.LayersModel,
  sampleShape: readonly number[],
): void {
  const input = model.inputs[0]?.shape.slice(1) ?? [];
  const fits =
    input.length === sampleShape.length &&
    input.every((d, i) => d === null || d === sampleShape[i]);
  if (!fits) {
    const same =
      input.reduce<number>((a, b) => a * (b ?? 1), 1) === sampleShape.reduce((a, b) => a * b, 1);
    throw new ScalpelError(
      ErrorCode.Stage,
      `stage '${ctx.stageId}': the model takes samples of shape [${input.join(', ')}] but the dataset has [${sampleShape.join(', ')}]`,
      {
        stageId: ctx.stageId,
        hint: same
          ? "set the dataset's shape option (load-dataset) or add a reshape layer to the model"
          : 'use a dataset that matches the model (or a model built for this dataset)',
      },
    );
  }
}

/** Check that every label is a valid class index for a model with `outputs` units. */
export function checkLabels(
  ctx: StageContext<unknown>,
  model: tfl.LayersModel,
  numClasses: number,
): void {
  const units = model.outputs[0]?.shape[1];
  if (typeof units === 'number' && units < numClasses) {
    throw new ScalpelError(
      ErrorCode.Stage,
      `stage '${ctx.stageId}': the model has ${units} outputs but the dataset has ${numClasses} classes`,
      {
        stageId: ctx.stageId,
        hint: 'make the last dense layer as wide as the number of classes',
      },
    );
  }
}
