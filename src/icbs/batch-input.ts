// Training / validation samples as tensors shaped for the model's input (a flat [784] dataset
// feeds a [28, 28, 1] model and vice versa when the sizes agree).
import * as tf from '@tensorflow/tfjs-core';
import type * as tfl from '@tensorflow/tfjs-layers';
import { ErrorCode, ScalpelError } from '../errors.js';
import type { DatasetSplit } from '../data/types.js';
import { checkLabelRange, gatherSamples, sliceSamples, type SampleBlock } from '../data/batches.js';
import type { TensorBatch } from '../models/per-sample-gradients.js';

/** The model's per-sample input shape, checked against the split's sample size. */
export function modelSampleShape(model: tfl.LayersModel, split: DatasetSplit): number[] {
  const dims = model.inputs[0]?.shape.slice(1) ?? [];
  const size = split.sampleShape.reduce((a, b) => a * b, 1);
  if (dims.some((d) => d === null)) return [...split.sampleShape];
  const shape = dims as number[];
  if (shape.reduce((a, b) => a * b, 1) !== size) {
    throw new ScalpelError(
      ErrorCode.Stage,
      `the model takes samples of shape [${shape.join(', ')}] but split '${split.name}' has [${split.sampleShape.join(', ')}]`,
      { hint: 'use a dataset that matches the model' },
    );
  }
  return shape;
}

function toTensors(
  model: tfl.LayersModel,
  split: DatasetSplit,
  block: SampleBlock,
  numClasses: number,
): TensorBatch {
  checkLabelRange(block, numClasses);
  const shape = modelSampleShape(model, split);
  return {
    x: tf.tensor(block.x, [block.count, ...shape], 'float32'),
    labels: tf.tensor1d(block.y, 'int32'),
  };
}

/** Samples [start, end) of a split. */
export function batchForModel(
  model: tfl.LayersModel,
  split: DatasetSplit,
  start: number,
  end: number,
  numClasses: number,
): TensorBatch {
  return toTensors(model, split, sliceSamples(split, start, end), numClasses);
}

/** The samples at `indices`. */
export function gatherForModel(
  model: tfl.LayersModel,
  split: DatasetSplit,
  indices: ArrayLike<number>,
  numClasses: number,
): TensorBatch {
  return toTensors(model, split, gatherSamples(split, indices), numClasses);
}
