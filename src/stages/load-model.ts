// load-model: a model from the user's files through its model family (format, or the first family
// that recognizes the path), validated by loading it, written into the stage's 'model' artifact,
// with its prunable operators reported.
import { dirname, relative } from 'node:path';
import { sha256File } from '../util/file-hash.js';
import { writeModelArtifact } from '../models/model-artifact.js';
import { tfjsLayersFamily } from '../models/tfjs-layers/family.js';
import type { ModelFamily } from '../plugin-api/model.js';
import type { RegistryView } from '../plugin-api/registry-view.js';
import { defineStage } from '../plugin-api/plugin.js';
import type { StageContext, StageResult } from '../plugin-api/stage.js';
import { readSchema } from '../util/schemas.js';

export type LoadModelParams = {
  path: string;
  format?: string;
  options?: Record<string, unknown>;
};

/** The family named by `format`, else the first that recognizes `path`, else tfjs-layers (whose errors explain). */
async function familyFor(
  params: LoadModelParams,
  path: string,
  registry: RegistryView,
): Promise<ModelFamily> {
  if (params.format !== undefined) return registry.family(params.format);
  for (const name of registry.familyNames()) {
    const family = registry.family(name);
    if (await family.recognizes(path)) return family;
  }
  return registry.family(tfjsLayersFamily.name);
}

export const loadModelStage = defineStage<LoadModelParams>({
  name: 'load-model',
  version: '1',
  description:
    'Load a model through its family (tfjs-layers: model.json + weights) and list its prunable layers',
  schema: readSchema('stages/load-model.schema.json'),
  output: 'model',
  inputs: [],

  // The files' contents, so editing the model invalidates the cache even when the path stays.
  // family.inspect also rejects, before anything runs, a model the family cannot run.
  async fingerprint(params, ctx) {
    const path = ctx.resolvePath(params.path);
    const family = await familyFor(params, path, ctx.registry);
    const [first, ...rest] = (await family.inspect(path, params.path)).files;
    const weights: Record<string, string> = {};
    for (const f of rest) weights[relative(dirname(path), f)] = await sha256File(f);
    const files = { modelJson: first === undefined ? null : await sha256File(first), weights };
    // tfjs-layers predates families: its fingerprint keeps its original shape (and cache keys).
    return family.name === tfjsLayersFamily.name
      ? files
      : { ...files, family: `${family.name}@${family.version}` };
  },

  async run(ctx: StageContext<LoadModelParams>): Promise<StageResult> {
    const path = ctx.resolvePath(ctx.params.path);
    const family = await familyFor(ctx.params, path, ctx.registry);
    const model = await family.load(path, ctx.params.options);
    try {
      const manifest = await writeModelArtifact(ctx.outDir, model, ctx.registry);
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
