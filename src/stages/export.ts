// export: the files a user takes away — a tfjs LayersModel (model.json + weights.bin, zeros
// included, loadable by plain tf.loadLayersModel), bit-packed masks, sparsity.json, optionally the
// compact sparse format (src/models/sparse-format.ts), the evaluate metrics when an evaluate stage
// is among the needs, and export.json with raw and gzipped sizes of each format. Written to the
// stage directory and, with `to`, published into a user directory (publish-dir.ts).
import { join } from 'node:path';
import { ErrorCode, ScalpelError } from '../errors.js';
import { writeMasks } from '../models/mask-files.js';
import { fileSize, modelSizeOnDisk, type FileSize } from '../models/model-size.js';
import { TfjsLayersModel } from '../models/tfjs-layers/layers-model.js';
import { writeSparseModel } from '../models/tfjs-layers/sparse-format.js';
import { sparsityManifest, type SparsityManifest } from '../models/sparsity-manifest.js';
import { defineStage } from '../plugin-api/plugin.js';
import type { StageContext, StageResult } from '../plugin-api/stage.js';
import { writeJsonAtomic } from '../util/atomic-file.js';
import { readSchema } from '../util/schemas.js';
import { exportFileNames, publishDir } from './publish-dir.js';
import { loadModelInput } from './stage-inputs.js';

export type ExportParams = {
  format: 'tfjs';
  sparse: boolean;
  masks: boolean;
  to?: string;
};

async function sizeOf(dir: string, files: string[]): Promise<FileSize> {
  const sizes = await Promise.all(files.map((f) => fileSize(join(dir, f))));
  return {
    bytes: sizes.reduce((a, s) => a + s.bytes, 0),
    gzipBytes: sizes.reduce((a, s) => a + s.gzipBytes, 0),
  };
}

const kb = (b: number): string => `${(b / 1024).toFixed(1)} KiB`;

export const exportStage = defineStage<ExportParams>({
  name: 'export',
  version: '1',
  description:
    'Export a model: tfjs LayersModel, bit-packed masks, sparsity.json, optional compact sparse format',
  schema: readSchema('stages/export.schema.json'),
  output: 'export',
  inputs: [{ kind: 'model' }, { kind: 'metrics', optional: true }],
  async run(ctx: StageContext<ExportParams>): Promise<StageResult> {
    const p = ctx.params;
    const metricInputs = ctx.inputsOfKind('metrics');
    if (metricInputs.length > 1) {
      throw new ScalpelError(
        ErrorCode.Stage,
        `stage '${ctx.stageId}' got ${metricInputs.length} metrics inputs (${metricInputs.map((m) => m.stageId).join(', ')}); it can bundle one`,
        {
          stageId: ctx.stageId,
          hint: 'keep a single evaluate stage in needs',
        },
      );
    }
    const model = await loadModelInput(ctx);
    const masks = model.masks;
    const layers = model.operators;
    const files: string[] = [];
    const sizes: Record<string, FileSize> = {};
    let sparsity: SparsityManifest;
    try {
      if (!(model instanceof TfjsLayersModel)) {
        throw new ScalpelError(
          ErrorCode.Stage,
          `stage '${ctx.stageId}': format 'tfjs' exports tfjs-layers models; this model is '${model.family}'`,
          { stageId: ctx.stageId, hint: "choose the export format of the model's family" },
        );
      }
      const modelJson = await ctx.registry.family(model.family).save(model, ctx.outDir);
      files.push(modelJson, 'weights.bin');
      sizes.tfjs = await modelSizeOnDisk(ctx.outDir, modelJson);
      if (p.masks && masks.size > 0) {
        await writeMasks(ctx.outDir, masks, new Map(layers.map((l) => [l.name, l.kernelShape])));
        files.push('masks.json', 'masks.bin');
        sizes.masks = await sizeOf(ctx.outDir, ['masks.json', 'masks.bin']);
      }
      if (p.sparse) {
        await writeSparseModel(model.layersModel, ctx.outDir);
        files.push('sparse.json', 'sparse.bin');
        sizes.sparse = await sizeOf(ctx.outDir, ['sparse.json', 'sparse.bin']);
      }
      sparsity = sparsityManifest(model);
    } finally {
      model.dispose();
    }
    await writeJsonAtomic(join(ctx.outDir, 'sparsity.json'), sparsity);
    files.push('sparsity.json');
    const metricsInput = metricInputs[0];
    if (metricsInput !== undefined) {
      await writeJsonAtomic(join(ctx.outDir, 'metrics.json'), metricsInput.metrics);
      files.push('metrics.json');
    }
    const report = {
      files: [...files, 'export.json'],
      sizes,
      density: sparsity.total.density,
      layers: sparsity.layers,
    };
    await writeJsonAtomic(join(ctx.outDir, 'export.json'), report);
    let publishedTo: string | undefined;
    if (p.to !== undefined) {
      publishedTo = ctx.resolvePath(p.to);
      await publishDir(ctx.outDir, publishedTo, exportFileNames, ctx.stageId);
      ctx.log.info(`exported to ${publishedTo}`);
    }
    const line = Object.entries(sizes)
      .map(([f, s]) => `${f} ${kb(s.bytes)} (gzip ${kb(s.gzipBytes)})`)
      .join(', ');
    ctx.log.info(`${ctx.stageId}: density ${(100 * sparsity.total.density).toFixed(2)}%; ${line}`);
    return {
      kind: 'export',
      manifest: { files: report.files, ...(publishedTo !== undefined ? { publishedTo } : {}) },
      metrics: { sizes, density: sparsity.total.density },
    };
  },
});
