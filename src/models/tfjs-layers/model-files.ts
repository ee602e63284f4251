// Reads and writes a tfjs LayersModel as `model.json` + binary weight files on disk — the format
// `model.save('file://…')` and the Keras converter produce. Without tfjs-node there is no file://
// handler, so this module is it: tf.io.fromMemory to load, tf.io.withSaveHandler to save.
import { promises as fs } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { ErrorCode, ScalpelError } from '../../errors.js';
import { invalidJson, readFailed } from '../../error-factories.js';
import { writeFileAtomic } from '../../util/atomic-file.js';
import { groupBytes } from './weight-files.js';

interface WeightsGroup {
  paths: string[];
  weights: tf.io.WeightsManifestEntry[];
}
interface ModelJson {
  modelTopology: unknown;
  weightsManifest: WeightsGroup[];
  format?: string;
  generatedBy?: string;
  convertedBy?: string | null;
  trainingConfig?: tf.io.TrainingConfig;
  userDefinedMetadata?: tf.io.ModelArtifacts['userDefinedMetadata'];
}

async function readJson(file: string): Promise<ModelJson> {
  let text: string;
  try {
    text = await fs.readFile(file, 'utf8');
  } catch (e) {
    throw readFailed(file, e, { what: 'model file' });
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (e) {
    throw invalidJson(file, e, {
      hint: 'the file is corrupt or not a tfjs model.json; re-export the model',
    });
  }
  const obj = json as Partial<ModelJson>;
  if (typeof json !== 'object' || json === null || obj.modelTopology === undefined) {
    throw new ScalpelError(
      ErrorCode.Data,
      `${file} has no modelTopology: not a tfjs LayersModel model.json`,
      {
        location: { file },
        hint: 'graph models (tf.loadGraphModel) cannot be pruned; export a Keras/LayersModel',
      },
    );
  }
  if (!Array.isArray(obj.weightsManifest)) {
    throw new ScalpelError(ErrorCode.Data, `${file} has no weightsManifest`, {
      location: { file },
    });
  }
  return obj as ModelJson;
}

/** Load a LayersModel from a model.json path (weight files resolved next to it). */
export async function loadLayersModelFromFile(modelJsonPath: string): Promise<tfl.LayersModel> {
  const json = await readJson(modelJsonPath);
  const dir = dirname(modelJsonPath);
  const specs: tf.io.WeightsManifestEntry[] = [];
  const buffers: ArrayBuffer[] = [];
  for (const group of json.weightsManifest) {
    const expected = groupBytes(group);
    const parts: Buffer[] = [];
    for (const p of group.paths) {
      const file = join(dir, p);
      try {
        parts.push(await fs.readFile(file));
      } catch (e) {
        throw new ScalpelError(
          ErrorCode.Data,
          `weight file '${p}' listed in ${modelJsonPath} cannot be read: ${(e as NodeJS.ErrnoException).code ?? String(e)}`,
          {
            location: { file: modelJsonPath },
            hint: 'keep the weight files next to model.json, as saved',
            cause: e,
          },
        );
      }
    }
    const data = Buffer.concat(parts);
    if (data.byteLength !== expected) {
      throw new ScalpelError(
        ErrorCode.Data,
        `weight files ${group.paths.join(', ')} hold ${data.byteLength} bytes but the manifest in ${basename(modelJsonPath)} describes ${expected} (truncated or mismatched files)`,
        {
          location: { file: modelJsonPath },
          hint: 're-export the model; the files do not belong together',
        },
      );
    }
    specs.push(...group.weights);
    buffers.push(data.buffer.slice(data.byteOffset, data.byteOffset + data.byteLength));
  }
  const artifacts: tf.io.ModelArtifacts = {
    modelTopology: json.modelTopology as NonNullable<tf.io.ModelArtifacts['modelTopology']>,
    weightSpecs: specs,
    weightData: tf.io.concatenateArrayBuffers(buffers),
    ...(json.trainingConfig !== undefined ? { trainingConfig: json.trainingConfig } : {}),
    ...(json.userDefinedMetadata !== undefined
      ? { userDefinedMetadata: json.userDefinedMetadata }
      : {}),
  };
  try {
    return await tfl.loadLayersModel(tf.io.fromMemory(artifacts));
  } catch (e) {
    throw new ScalpelError(
      ErrorCode.Data,
      `cannot build the model in ${modelJsonPath}: ${(e as Error).message}`,
      {
        location: { file: modelJsonPath },
        hint: 'the topology or weight shapes are inconsistent (weight-shape mismatch?) or use layers tfjs does not support',
        cause: e,
      },
    );
  }
}

/** Save a LayersModel as `<dir>/model.json` + `<dir>/weights.bin` (each file written atomically). */
export async function saveLayersModelToDir(
  model: tfl.LayersModel,
  dir: string,
  options: { includeOptimizer?: boolean; weightsFile?: string } = {},
): Promise<{ modelJson: string; weightsBytes: number }> {
  const weightsFile = options.weightsFile ?? 'weights.bin';
  await fs.mkdir(dir, { recursive: true });
  let bytes = 0;
  await model.save(
    tf.io.withSaveHandler(async (artifacts) => {
      const data =
        artifacts.weightData === undefined
          ? new ArrayBuffer(0)
          : tf.io.concatenateArrayBuffers(
              Array.isArray(artifacts.weightData) ? artifacts.weightData : [artifacts.weightData],
            );
      bytes = data.byteLength;
      const json: ModelJson = {
        modelTopology: artifacts.modelTopology,
        format: 'layers-model',
        generatedBy: artifacts.generatedBy ?? `TensorFlow.js tfjs-layers v${tfl.version_layers}`,
        convertedBy: null,
        weightsManifest: [{ paths: [weightsFile], weights: artifacts.weightSpecs ?? [] }],
        ...(artifacts.trainingConfig !== undefined
          ? { trainingConfig: artifacts.trainingConfig }
          : {}),
        ...(artifacts.userDefinedMetadata !== undefined
          ? { userDefinedMetadata: artifacts.userDefinedMetadata }
          : {}),
      };
      await writeFileAtomic(join(dir, weightsFile), new Uint8Array(data));
      await writeFileAtomic(join(dir, 'model.json'), JSON.stringify(json));
      return { modelArtifactsInfo: tf.io.getModelArtifactsInfoForJSON(artifacts) };
    }),
    { includeOptimizer: options.includeOptimizer ?? false },
  );
  return { modelJson: join(dir, 'model.json'), weightsBytes: bytes };
}
