// export: the files a user takes away — the model in its family's format (tfjs: a LayersModel,
// model.json + weights.bin, zeros included, loadable by plain tf.loadLayersModel; hf: a Hugging
// Face checkpoint directory that transformers loads), bit-packed masks, sparsity.json, optionally
// the compact sparse format of tfjs models (src/models/sparse-format.ts), the evaluate metrics
// when an evaluate stage is among the needs, and export.json with raw and gzipped sizes of each
// format. Written to the stage directory and, with `to`, published into a user directory
// (publish-dir.ts).
import { createReadStream, promises as fs } from 'node:fs';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createGzip } from 'node:zlib';
import { ErrorCode, ScalpelError } from '../errors.js';
import { writeMasks } from '../models/mask-files.js';
import { fileSize, modelSizeOnDisk, type FileSize } from '../models/model-size.js';
import { HfCausalLmModel, hfCausalLmFamilyName } from '../models/hf/causal-lm-model.js';
import { saveHfCheckpoint } from '../models/hf/save-checkpoint.js';
import {
  HfImageClassifierModel,
  hfImageClassifierFamilyName,
} from '../models/hf/image-classifier-model.js';
import { saveVitCheckpoint } from '../models/hf/vit-checkpoint.js';
import type { FloatDtype } from '../models/hf/safetensors.js';
import { TfjsLayersModel, tfjsLayersFamilyName } from '../models/tfjs-layers/layers-model.js';
import { writeSparseModel } from '../models/tfjs-layers/sparse-format.js';
import {
  layerDensitiesRecordOf,
  sparsityManifest,
  type SparsityManifest,
} from '../models/sparsity-manifest.js';
import { defineStage } from '../plugin-api/plugin.js';
import type { PrunableModel } from '../plugin-api/model.js';
import type { StageContext, StageResult } from '../plugin-api/stage.js';
import { writeJsonAtomic } from '../util/atomic-file.js';
import { readSchema } from '../util/schemas.js';
import { exportFileNames, publishDir } from './publish-dir.js';
import { loadModelInput } from './stage-inputs.js';

export type ExportParams = {
  format: 'tfjs' | 'hf' | 'auto';
  sparse: boolean;
  masks: boolean;
  /** format hf: store the weights in this dtype (default: as loaded). */
  dtype?: 'f32' | 'f16' | 'bf16';
  to?: string;
};

type ModelFormat = 'tfjs' | 'hf';

/** The export format of each family's models (what `format: auto` picks). */
const familyFormats: ReadonlyMap<string, ModelFormat> = new Map([
  [tfjsLayersFamilyName, 'tfjs'],
  [hfCausalLmFamilyName, 'hf'],
  [hfImageClassifierFamilyName, 'hf'],
]);

const safetensorsDtype: Record<NonNullable<ExportParams['dtype']>, FloatDtype> = {
  f32: 'F32',
  f16: 'F16',
  bf16: 'BF16',
};

async function sizeOf(dir: string, files: string[]): Promise<FileSize> {
  const sizes = await Promise.all(files.map((f) => fileSize(join(dir, f))));
  return {
    bytes: sizes.reduce((a, s) => a + s.bytes, 0),
    gzipBytes: sizes.reduce((a, s) => a + s.gzipBytes, 0),
  };
}

/** Like sizeOf, streaming: checkpoint weight files can be larger than a Buffer may be. */
async function streamedSizeOf(dir: string, files: readonly string[]): Promise<FileSize> {
  let bytes = 0;
  let gzipBytes = 0;
  for (const f of files) {
    bytes += (await fs.stat(join(dir, f))).size;
    const count = new Writable({
      write(chunk: Buffer, _encoding, done) {
        gzipBytes += chunk.length;
        done();
      },
    });
    await pipeline(createReadStream(join(dir, f)), createGzip({ level: 9 }), count);
  }
  return { bytes, gzipBytes };
}

const kb = (b: number): string => `${(b / 1024).toFixed(1)} KiB`;

/** The format to write, checked against the input model's family and the other params. */
function chosenFormat(ctx: StageContext<ExportParams>): ModelFormat {
  const p = ctx.params;
  const recorded = ctx.input('model').manifest.family;
  const family = typeof recorded === 'string' ? recorded : tfjsLayersFamilyName;
  const natural = familyFormats.get(family);
  const format = p.format === 'auto' ? natural : p.format;
  const fail = (message: string, hint: string): never => {
    throw new ScalpelError(ErrorCode.Stage, `stage '${ctx.stageId}': ${message}`, {
      stageId: ctx.stageId,
      hint,
    });
  };
  if (format === undefined) {
    return fail(
      `format 'auto': there is no export format for '${family}' models`,
      `export formats: ${[...familyFormats].map(([f, fmt]) => `${fmt} (${f})`).join(', ')}`,
    );
  }
  if (format !== natural) {
    const families = [...familyFormats].filter(([, fmt]) => fmt === format).map(([f]) => f);
    const exports = families.length > 0 ? families.join(' and ') : format;
    return fail(
      `format '${format}' exports ${exports} models; this model is '${family}'`,
      natural !== undefined
        ? `use format: ${natural} (or auto) for this model`
        : "choose the export format of the model's family",
    );
  }
  if (format === 'hf' && p.sparse) {
    return fail(
      'sparse: true writes the compact sparse format of tfjs LayersModels, which Hugging Face models do not have',
      'drop sparse: true; masks.json/masks.bin and sparsity.json describe the sparsity of the checkpoint',
    );
  }
  if (format === 'tfjs' && p.dtype !== undefined) {
    return fail(
      `dtype: ${p.dtype} applies to format hf; tfjs LayersModels are exported in float32`,
      'drop dtype, or export a Hugging Face model with format: hf',
    );
  }
  return format;
}

/** The model files in its format into ctx.outDir; returns the file names and their size. */
async function writeModelFiles(
  ctx: StageContext<ExportParams>,
  model: PrunableModel,
  format: ModelFormat,
): Promise<{ files: string[]; size: FileSize }> {
  if (format === 'hf') {
    const dtype = ctx.params.dtype;
    const options = dtype === undefined ? {} : { dtype: safetensorsDtype[dtype] };
    let files: string[];
    if (model instanceof HfImageClassifierModel)
      files = await saveVitCheckpoint(model, ctx.outDir, options);
    else if (model instanceof HfCausalLmModel)
      files = await saveHfCheckpoint(model, ctx.outDir, options);
    else {
      throw new ScalpelError(
        ErrorCode.Stage,
        `stage '${ctx.stageId}': format 'hf' exports ${hfCausalLmFamilyName} and ${hfImageClassifierFamilyName} models; this model is '${model.family}'`,
        { stageId: ctx.stageId, hint: "choose the export format of the model's family" },
      );
    }
    // The model proper: config and weights (tokenizer files are listed, not counted).
    const weights = files.filter((f) => f === 'config.json' || f.includes('.safetensors'));
    return { files, size: await streamedSizeOf(ctx.outDir, weights) };
  }
  if (!(model instanceof TfjsLayersModel)) {
    throw new ScalpelError(
      ErrorCode.Stage,
      `stage '${ctx.stageId}': format 'tfjs' exports tfjs-layers models; this model is '${model.family}'`,
      { stageId: ctx.stageId, hint: "choose the export format of the model's family" },
    );
  }
  const modelJson = await ctx.registry.family(model.family).save(model, ctx.outDir);
  return { files: [modelJson, 'weights.bin'], size: await modelSizeOnDisk(ctx.outDir, modelJson) };
}

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
    const format = chosenFormat(ctx);
    const model = await loadModelInput(ctx);
    const masks = model.masks;
    const layers = model.operators;
    const files: string[] = [];
    const sizes: Record<string, FileSize> = {};
    let sparsity: SparsityManifest;
    try {
      const written = await writeModelFiles(ctx, model, format);
      files.push(...written.files);
      sizes[format] = written.size;
      if (p.masks && masks.size > 0) {
        await writeMasks(ctx.outDir, masks, new Map(layers.map((l) => [l.name, l.kernelShape])));
        files.push('masks.json', 'masks.bin');
        sizes.masks = await sizeOf(ctx.outDir, ['masks.json', 'masks.bin']);
      }
      if (p.sparse && model instanceof TfjsLayersModel) {
        await writeSparseModel(model.layersModel, ctx.outDir);
        files.push('sparse.json', 'sparse.bin');
        sizes.sparse = await sizeOf(ctx.outDir, ['sparse.json', 'sparse.bin']);
      }
      sparsity = sparsityManifest(model, layerDensitiesRecordOf(ctx.input('model').manifest));
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
