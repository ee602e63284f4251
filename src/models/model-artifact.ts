// The 'model' artifact that flows between stages: a stage's outDir holding the model in its
// family's own format (tfjs-layers: model.json + weights.bin) and, once pruned, masks.json +
// masks.bin. The manifest names the family, so any stage reads any family's model back through
// the registry. Every stage that produces or consumes a model goes through these two functions.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { Artifact } from '../plugin-api/stage.js';
import type { PrunableLayerInfo } from '../plugin-api/layers.js';
import type { ModelFamily, PrunableModel } from '../plugin-api/model.js';
import { readMasks, writeMasks } from './mask-files.js';
import { tfjsLayersFamily } from './tfjs-layers/family.js';

export interface ModelManifest extends Record<string, unknown> {
  /** The family that saved the model (absent in artifacts written before families: tfjs-layers). */
  family: string;
  /** The path inside the artifact that family.load takes (tfjs-layers: model.json). */
  modelJson: string;
  /** Present when the model carries pruning masks. */
  masks?: string;
  prunableLayers: PrunableLayerInfo[];
  paramCount: number;
}

/** How a stage finds a family by name (the registry). */
export interface FamilyLookup {
  family(name: string): ModelFamily;
}

/** Write `model` (and `model.masks`, if any) into `dir`; returns the manifest for StageResult. */
export async function writeModelArtifact(
  dir: string,
  model: PrunableModel,
  families: FamilyLookup,
): Promise<ModelManifest> {
  const path = await families.family(model.family).save(model, dir);
  const layers = [...model.operators];
  const manifest: ModelManifest = {
    family: model.family,
    modelJson: path,
    prunableLayers: layers,
    paramCount: model.parameterCounts().total,
  };
  if (model.masks.size > 0) {
    await writeMasks(dir, model.masks, new Map(layers.map((l) => [l.name, l.kernelShape])));
    manifest.masks = 'masks.json';
  }
  return manifest;
}

/** Load the model of an artifact with its masks (a fresh instance the caller owns and disposes). */
export async function readModelArtifact(
  artifact: Pick<Artifact, 'dir' | 'manifest'> | string,
  families: FamilyLookup,
): Promise<PrunableModel> {
  const dir = typeof artifact === 'string' ? artifact : artifact.dir;
  const manifest = typeof artifact === 'string' ? {} : artifact.manifest;
  const familyName = typeof manifest.family === 'string' ? manifest.family : tfjsLayersFamily.name;
  const path = typeof manifest.modelJson === 'string' ? manifest.modelJson : 'model.json';
  const model = await families.family(familyName).load(join(dir, path));
  if (existsSync(join(dir, 'masks.json'))) {
    for (const [name, mask] of await readMasks(dir)) model.masks.set(name, mask);
  }
  return model;
}
