// The `with` of train and finetune (schemas/stages/train.schema.json), shared by the epoch loop
// (train.ts) and the `steps:` mode (step-training.ts); its own file so neither imports the other.
import type { AugmentOptions } from '../data/augment.js';
import type { OptimizerName } from '../models/training-loop.js';

/** The `steps:` mode's own parameters. */
export type StepTrainingParams = {
  steps?: number;
  warmupSteps?: number;
  minLearningRate?: number;
  weightDecay?: number;
  beta2?: number;
  clipNorm?: number;
  curveEvery?: number;
  evaluateEvery?: number;
  evaluateSplit?: string;
  evaluateSamples?: number;
  checkpointEvery?: number;
};

export type TrainingParams = {
  optimizer: OptimizerName;
  learningRate: number;
  momentum: number;
  epochs: number;
  batchSize: number;
  /** Gradient accumulation: each batch's gradient summed over this many micro-batches (default 1). */
  microBatches?: number;
  split: string;
  samples: number;
  validationSplit: number;
  seed?: number;
  /** Seeded augmentation of training batches (image samples only). */
  augment?: AugmentOptions;
} & StepTrainingParams;
