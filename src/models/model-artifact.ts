// The 'model' artifact that flows between stages: a stage's outDir holding model.json +
// weights.bin and, once pruned, masks.json + masks.bin. Every stage that produces or consumes a
// model goes through these two functions.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type * as tfl from '@tensorflow/tfjs-layers';
import type { Artifact } from '../plugin-api/stage.js';
import type { PrunableLayerInfo } from '../plugin-api/layers.js';
import { loadLayersModelFromFile, saveLayersModelToDir } from './model-files.js';
import { listPrunableLayers } from './prunable-layers.js';
import { readMasks, writeMasks } from './mask-files.js';

export interface ModelManifest extends Record<string, unknown> {
  modelJson: string;
  /** Present when the model carries pruning masks. */
  masks?: string;
  prunableLayers: PrunableLayerInfo[];
  paramCount: number;
}

export interface LoadedModel {
  model: tfl.LayersModel;
  /** Keep-masks by layer name (empty for a dense model). */
  masks: Map<string, Uint8Array>;
  layers: PrunableLayerInfo[];
}

/** Write `model` (and its masks, if any) into `dir`; returns the manifest for StageResult. */
export async function writeModelArtifact(
  dir: string,
  model: tfl.LayersModel,
  masks?: ReadonlyMap<string, Uint8Array>,
): Promise<ModelManifest> {
  await saveLayersModelToDir(model, dir);
  const layers = listPrunableLayers(model);
  const manifest: ModelManifest = {
    modelJson: 'model.json',
    prunableLayers: layers,
    paramCount: model.countParams(),
  };
  if (masks !== undefined && masks.size > 0) {
    await writeMasks(dir, masks, new Map(layers.map((l) => [l.name, l.kernelShape])));
    manifest.masks = 'masks.json';
  }
  return manifest;
}

/** Load the model (a fresh instance the caller owns and must dispose) and masks of an artifact. */
export async function readModelArtifact(
  artifact: Pick<Artifact, 'dir'> | string,
): Promise<LoadedModel> {
  const dir = typeof artifact === 'string' ? artifact : artifact.dir;
  const model = await loadLayersModelFromFile(join(dir, 'model.json'));
  const masks = existsSync(join(dir, 'masks.json'))
    ? await readMasks(dir)
    : new Map<string, Uint8Array>();
  return { model, masks, layers: listPrunableLayers(model) };
}
