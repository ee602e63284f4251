import assert from 'node:assert/strict';
import { promises as fs } from 'node:fs';
import * as tf from '@tensorflow/tfjs-core';
// Shared inputs for the stage tests: a real Fashion-MNIST subset written by the real load-dataset
// stage (memoised per process), and small real models written as model artifacts.
import { builtinFamilyLookup } from '../../src/models/families.js';
import { asPrunable } from '../helpers/models.js';
import * as tfl from '@tensorflow/tfjs-layers';
import { join } from 'node:path';
import { initBackend } from '../../src/models/backend.js';
import { buildModel, type ModelSpec } from '../../src/models/model-spec.js';
import { writeModelArtifact } from '../../src/models/model-artifact.js';
import { loadDatasetStage } from '../../src/stages/load-dataset.js';
import type { Artifact } from '../../src/plugin-api/stage.js';
import { Rng } from '../../src/util/rng.js';
import { artifactFrom, runStage } from '../helpers/stage-context.js';
import { tempDir } from '../helpers/paths.js';

let dataset: Promise<Artifact> | undefined;

/** Fashion-MNIST, first 2000 training and 500 test samples, normalised (x/255 − 0.5)/0.5. */
export function fashionSubset(): Promise<Artifact> {
  dataset ??= (async () => {
    await initBackend('wasm');
    const { artifact } = await runStage(
      loadDatasetStage,
      { source: 'fashion-mnist', train: 2000, test: 500, normalize: { mean: 0.5, std: 0.5 } },
      { seed: 1 },
    );
    return artifact;
  })();
  return dataset;
}

export const smallMlp: ModelSpec = {
  input: [784],
  layers: [
    { type: 'dense', units: 32, activation: 'relu', name: 'linear1' },
    { type: 'dense', units: 10, name: 'linear2' },
  ],
};

/** Build `spec` with weights from `seed`; the caller disposes. */
export function makeModel(spec: ModelSpec = smallMlp, seed = 7): tfl.LayersModel {
  return buildModel(spec, new Rng(seed), 'test');
}

/** Write `model` (and masks) as a model artifact in a fresh directory. */
export async function modelArtifact(
  model: tfl.LayersModel,
  masks?: ReadonlyMap<string, Uint8Array>,
): Promise<Artifact> {
  const dir = join(tempDir('scalpel-model-'), 'model');
  const prunable = asPrunable(model);
  for (const [name, mask] of masks ?? []) prunable.masks.set(name, mask);
  const manifest = await writeModelArtifact(dir, prunable, builtinFamilyLookup);
  return artifactFrom('model', dir, { stageId: 'model', stageType: 'load-model', manifest });
}

/** Load model.json + weights.bin exactly as a user would, with nothing but tfjs. */
export async function plainLoad(dir: string): Promise<tfl.LayersModel> {
  const json = JSON.parse(await fs.readFile(join(dir, 'model.json'), 'utf8')) as {
    modelTopology: tf.io.ModelArtifacts['modelTopology'];
    weightsManifest: { paths: string[]; weights: tf.io.WeightsManifestEntry[] }[];
  };
  const group = json.weightsManifest[0];
  assert.ok(group !== undefined && group.paths.length === 1);
  const bin = await fs.readFile(join(dir, group.paths[0] as string));
  const weightData = bin.buffer.slice(
    bin.byteOffset,
    bin.byteOffset + bin.byteLength,
  ) as ArrayBuffer;
  return tfl.loadLayersModel(
    tf.io.fromMemory({ modelTopology: json.modelTopology, weightSpecs: group.weights, weightData }),
  );
}
