// The built-in model family `tfjs-layers`: TensorFlow.js LayersModels of any single-input,
// single-output topology (Sequential or functional, with residual adds, concatenations and merging
// branches), stored as model.json + binary weight files.
import { ownModel } from '../family-model.js';
import { promises as fs } from 'node:fs';
import { dirname, join } from 'node:path';
import { ErrorCode, ScalpelError } from '../../errors.js';
import type { ModelFamily, ModelSourceInfo, PrunableModel } from '../../plugin-api/model.js';
import { TfjsLayersModel, tfjsLayersFamilyName } from './layers-model.js';
import { loadLayersModelFromFile, saveLayersModelToDir } from './model-files.js';
import { checkTopology } from './topology-check.js';
import { checkWeightFileSizes, type ManifestEntry, type ManifestGroup } from './weight-files.js';

const modelFile = 'model.json';

/** `path: models/foo` (the folder) instead of `models/foo/model.json`: say which file to name. */
async function notADirectory(path: string, shown: string): Promise<void> {
  const stats = await fs.stat(path).catch(() => undefined);
  if (stats?.isDirectory() !== true) return;
  const inside = (await fs.readdir(path).catch(() => [] as string[])).filter((f) =>
    f.endsWith('.json'),
  );
  const pick = inside.includes(modelFile) ? modelFile : inside[0];
  throw new ScalpelError(ErrorCode.Io, `path ${shown} is a directory, not a model.json file`, {
    hint:
      pick !== undefined
        ? `did you mean path: ${join(shown, pick)}?`
        : 'point path at the model.json of a tfjs LayersModel (weight files next to it)',
  });
}

/** The 8-byte signature every HDF5 file (a Keras `.h5` model) starts with. */
const hdf5Magic = Buffer.from([0x89, 0x48, 0x44, 0x46, 0x0d, 0x0a, 0x1a, 0x0a]);

/** The weightsManifest groups of a parsed model.json, keeping only well-formed entries. */
function manifestGroups(raw: unknown): ManifestGroup[] {
  if (!Array.isArray(raw)) return [];
  return raw.map((g: { paths?: unknown; weights?: unknown }) => ({
    paths: (Array.isArray(g.paths) ? g.paths : []).filter(
      (p): p is string => typeof p === 'string',
    ),
    weights: (Array.isArray(g.weights) ? g.weights : []).filter(
      (w): w is ManifestEntry =>
        typeof w === 'object' &&
        w !== null &&
        typeof (w as ManifestEntry).name === 'string' &&
        typeof (w as ManifestEntry).dtype === 'string' &&
        Array.isArray((w as ManifestEntry).shape),
    ),
  }));
}

/** model.json parsed far enough to list its weight files and check its topology. */
async function readModelJson(
  path: string,
  shown: string,
): Promise<{ groups: ManifestGroup[] } | undefined> {
  let bytes: Buffer;
  try {
    bytes = await fs.readFile(path);
  } catch {
    return undefined; // a missing file is reported by the hashing, which names it
  }
  // Checked on the bytes: decoded as UTF-8 the leading 0x89 becomes U+FFFD and no longer matches.
  if (bytes.subarray(0, hdf5Magic.length).equals(hdf5Magic)) {
    throw new ScalpelError(
      ErrorCode.Data,
      `${shown} is an HDF5 file (a Keras .h5 model), not a tfjs model.json`,
      {
        hint: 'convert it with `tensorflowjs_converter --input_format keras model.h5 out_dir/` (pip install tensorflowjs) and point path at out_dir/model.json',
      },
    );
  }
  let json: unknown;
  try {
    json = JSON.parse(bytes.toString('utf8'));
  } catch (e) {
    throw new ScalpelError(
      ErrorCode.Data,
      `path ${shown} is not valid JSON: ${(e as Error).message.slice(0, 200)}`,
      {
        hint: 'point path at the model.json of a tfjs LayersModel (model.save / tfjs converter output)',
      },
    );
  }
  const obj = (json ?? {}) as { modelTopology?: unknown; weightsManifest?: unknown };
  if (typeof json !== 'object' || obj.modelTopology === undefined) {
    throw new ScalpelError(
      ErrorCode.Data,
      `path ${shown} is not a tfjs LayersModel model.json (no modelTopology)`,
      {
        hint: 'point path at the model.json of a tfjs LayersModel; graph models (tf.loadGraphModel) cannot be pruned',
      },
    );
  }
  checkTopology(obj.modelTopology, shown);
  const groups = manifestGroups(obj.weightsManifest);
  await checkWeightFileSizes(dirname(path), groups, shown);
  return { groups };
}

const asTfjs = (model: PrunableModel): TfjsLayersModel =>
  ownModel(model, TfjsLayersModel, tfjsLayersFamilyName);

export const tfjsLayersFamily: ModelFamily = {
  name: tfjsLayersFamilyName,
  version: '1',
  description:
    'TensorFlow.js LayersModels (model.json + weights): Sequential or functional, one input, one output',
  schema: { type: 'object', properties: {}, additionalProperties: false },

  async recognizes(path) {
    const stats = await fs.stat(path).catch(() => undefined);
    return stats?.isFile() === true && path.endsWith('.json');
  },

  async inspect(path, shownAs = path): Promise<ModelSourceInfo> {
    await notADirectory(path, shownAs);
    const json = await readModelJson(path, shownAs);
    const weightPaths = (json?.groups ?? []).flatMap((g) => g.paths);
    return { files: [path, ...weightPaths.map((p) => join(dirname(path), p))] };
  },

  async load(path, options) {
    if (options !== undefined && Object.keys(options).length > 0) {
      throw new ScalpelError(
        ErrorCode.RecipeSchema,
        `model family '${tfjsLayersFamilyName}' takes no options (got ${Object.keys(options).join(', ')})`,
        { hint: 'remove load-model’s options for tfjs models' },
      );
    }
    const stats = await fs.stat(path).catch(() => undefined);
    const file = stats?.isDirectory() === true ? join(path, modelFile) : path;
    const layersModel = await loadLayersModelFromFile(file);
    try {
      return new TfjsLayersModel(layersModel);
    } catch (e) {
      layersModel.dispose();
      throw e;
    }
  },

  async save(model, dir) {
    await saveLayersModelToDir(asTfjs(model).layersModel, dir);
    return modelFile;
  },
};
