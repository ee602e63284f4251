// load-model: a TensorFlow.js LayersModel from model.json + weight files on disk, validated by
// building it, copied into the stage's 'model' artifact, with its prunable layers reported.
import { promises as fs } from 'node:fs';
import { dirname, join } from 'node:path';
import { ErrorCode, ScalpelError } from '../errors.js';
import { sha256File } from '../util/file-hash.js';
import { writeModelArtifact } from '../models/model-artifact.js';
import { loadLayersModelFromFile } from '../models/model-files.js';
import { defineStage } from '../plugin-api/plugin.js';
import type { StageContext, StageResult } from '../plugin-api/stage.js';
import { readSchema } from '../util/schemas.js';

export type LoadModelParams = {
  path: string;
};

/**
 * Weight file paths listed in a model.json. A file that is not a LayersModel model.json is an
 * error here already, so `validate` and `plan` report it before anything runs. (A missing file
 * is left to the hashing, which names it.)
 */
async function weightFiles(modelJson: string, given: string): Promise<string[]> {
  let text: string;
  try {
    text = await fs.readFile(modelJson, 'utf8');
  } catch {
    return [];
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (e) {
    throw new ScalpelError(
      ErrorCode.Data,
      `path ${given} is not valid JSON: ${(e as Error).message}`,
      {
        hint: 'point path at the model.json of a tfjs LayersModel (model.save / tfjs converter output)',
      },
    );
  }
  const obj = (json ?? {}) as { modelTopology?: unknown; weightsManifest?: { paths?: unknown }[] };
  if (typeof json !== 'object' || obj.modelTopology === undefined) {
    throw new ScalpelError(
      ErrorCode.Data,
      `path ${given} is not a tfjs LayersModel model.json (no modelTopology)`,
      {
        hint: 'point path at the model.json of a tfjs LayersModel; graph models (tf.loadGraphModel) cannot be pruned',
      },
    );
  }
  const manifest = Array.isArray(obj.weightsManifest) ? obj.weightsManifest : [];
  return manifest
    .flatMap((g) => (Array.isArray(g.paths) ? g.paths : []))
    .filter((p): p is string => typeof p === 'string');
}

/** `path: models/foo` (the folder) instead of `models/foo/model.json`: say which file to name. */
async function notADirectory(abs: string, given: string): Promise<void> {
  const stats = await fs.stat(abs).catch(() => undefined);
  if (stats?.isDirectory() !== true) return;
  const inside = (await fs.readdir(abs).catch(() => [] as string[])).filter((f) =>
    f.endsWith('.json'),
  );
  const pick = inside.includes('model.json') ? 'model.json' : inside[0];
  throw new ScalpelError(ErrorCode.Io, `path ${given} is a directory, not a model.json file`, {
    hint:
      pick !== undefined
        ? `did you mean path: ${join(given, pick)}?`
        : 'point path at the model.json of a tfjs LayersModel (weight files next to it)',
  });
}

export const loadModelStage = defineStage<LoadModelParams>({
  name: 'load-model',
  version: '1',
  description:
    'Load a TensorFlow.js LayersModel (model.json + weights) and list its prunable layers',
  schema: readSchema('stages/load-model.schema.json'),
  output: 'model',
  inputs: [],

  // The files' contents, so editing the model invalidates the cache even when the path stays.
  async fingerprint(params, ctx) {
    const modelJson = ctx.resolvePath(params.path);
    await notADirectory(modelJson, params.path);
    const weights: Record<string, string> = {};
    for (const p of await weightFiles(modelJson, params.path))
      weights[p] = await sha256File(join(dirname(modelJson), p));
    return { modelJson: await sha256File(modelJson), weights };
  },

  async run(ctx: StageContext<LoadModelParams>): Promise<StageResult> {
    const model = await loadLayersModelFromFile(ctx.resolvePath(ctx.params.path));
    try {
      const manifest = await writeModelArtifact(ctx.outDir, model);
      const layers = manifest.prunableLayers;
      const prunableParams = layers.reduce((n, l) => n + l.paramCount, 0);
      ctx.log.info(
        `${ctx.params.path}: ${manifest.paramCount} parameters, ${layers.length} prunable layers (${prunableParams} weights): ` +
          layers.map((l) => `${l.name} ${l.kind} [${l.kernelShape.join('×')}]`).join(', '),
      );
      return {
        kind: 'model',
        manifest,
        metrics: {
          totalParams: manifest.paramCount,
          prunableParams,
          prunableLayers: layers.map((l) => ({
            name: l.name,
            kind: l.kind,
            kernelShape: [...l.kernelShape],
            params: l.paramCount,
          })),
        },
      };
    } finally {
      model.dispose();
    }
  },
});
