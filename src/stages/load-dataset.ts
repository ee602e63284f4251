// load-dataset: read a labelled dataset from one of the sources in src/data/sources, skip (and
// count) or reject malformed records, take seeded subsets, normalise and shape the samples, and
// write the 'dataset' artifact (src/data/dataset-artifact.ts). `source: text` instead tokenizes
// and packs text corpora (src/data/text/load-text-dataset.ts). See docs/datasets.md.
import { writeDatasetArtifact } from '../data/dataset-artifact.js';
import { describeTransform } from '../data/feature-transform.js';
import { MalformedRecords } from '../data/malformed.js';
import type { LoadDatasetOptions } from '../data/options.js';
import { prepareDataset } from '../data/prepare.js';
import { datasetSources } from '../data/sources/index.js';
import { join } from 'node:path';
import { ErrorCode, ScalpelError } from '../errors.js';
import { loadTextDataset } from '../data/text/load-text-dataset.js';
import {
  copyTokenizerFiles,
  datasetTokenizerDir,
  resolveTokenizerFiles,
} from '../data/text/tokenizer-files.js';
import { textDatasetFingerprint } from '../data/text/text-fingerprint.js';
import type { TextDatasetOptions } from '../data/text/text-options.js';
import { defineStage } from '../plugin-api/plugin.js';
import type { StageContext, StageResult } from '../plugin-api/stage.js';
import { readSchema } from '../util/schemas.js';

export type LoadDatasetParams = LoadDatasetOptions | TextDatasetOptions;

export const loadDatasetStage = defineStage<LoadDatasetParams>({
  name: 'load-dataset',
  version: '1',
  description:
    'Load a labelled dataset (fashion-mnist, fashion-mnist-official, mnist, idx, csv, jsonl) or tokenized text (text) with deterministic splits',
  schema: readSchema('stages/load-dataset.schema.json'),
  output: 'dataset',
  inputs: [{ kind: 'tokenizer', optional: true, reason: 'source text tokenizes with it' }],

  fingerprint(params, ctx) {
    if (params.source === 'text') return textDatasetFingerprint(params, (p) => ctx.resolvePath(p));
    return datasetSources[params.source].fingerprint(params, (p) => ctx.resolvePath(p));
  },

  async run(ctx: StageContext<LoadDatasetParams>): Promise<StageResult> {
    const opts = ctx.params;
    if (opts.source === 'text') return runText(ctx, opts);
    const malformed = new MalformedRecords(opts.strict);
    const raw = await datasetSources[opts.source].load(opts, {
      resolvePath: (p) => ctx.resolvePath(p),
      log: ctx.log,
      progress: (label, total) => ctx.progress(label, total),
      malformed,
      signal: ctx.signal,
    });
    for (const w of malformed.warnings()) ctx.log.warn(w);
    const { dataset, transform, available } = prepareDataset(
      raw,
      opts,
      ctx.rng.fork('load-dataset'),
    );
    const manifest = await writeDatasetArtifact(ctx.outDir, dataset);

    const splits: Record<string, unknown> = {};
    for (const s of dataset.splits.values()) {
      const skips = malformed.of(s.name);
      splits[s.name] = {
        count: s.count,
        available: available[s.name] ?? s.count,
        skipped: skips.total,
        skippedByReason: skips.byReason,
      };
    }
    const sampleShape = dataset.splits.values().next().value?.sampleShape ?? [];
    ctx.log.info(
      `${dataset.source}: ${[...dataset.splits.values()].map((s) => `${s.name} ${s.count}`).join(', ')} samples of shape [${sampleShape.join(', ')}], ${dataset.numClasses} classes` +
        (malformed.total > 0 ? `, ${malformed.total} malformed records skipped` : ''),
    );
    return {
      kind: 'dataset',
      manifest,
      metrics: {
        source: dataset.source,
        numClasses: dataset.numClasses,
        sampleShape: [...sampleShape],
        normalization: describeTransform(transform, raw.pixels),
        ...(dataset.image !== undefined ? { image: dataset.image } : {}),
        skipped: malformed.total,
        splits,
      },
    };
  },
});

/** `tokenizer:` resolved against the recipe, else the directory of the train-tokenizer input. */
function textTokenizerPath(ctx: StageContext<LoadDatasetParams>, opts: TextDatasetOptions): string {
  if (opts.tokenizer !== undefined) return ctx.resolvePath(opts.tokenizer);
  const inputs = ctx.inputsOfKind('tokenizer');
  const only = inputs[0];
  if (inputs.length === 1 && only !== undefined) return only.dir;
  throw new ScalpelError(
    ErrorCode.Graph,
    `stage '${ctx.stageId}': source text needs a tokenizer, and ${inputs.length === 0 ? 'neither with.tokenizer nor a train-tokenizer stage in needs gives one' : `${inputs.length} tokenizer stages are in needs`}`,
    {
      stageId: ctx.stageId,
      hint: 'set with.tokenizer to a tokenizer.json (or a model directory), or add one train-tokenizer stage to needs',
    },
  );
}

async function runText(
  ctx: StageContext<LoadDatasetParams>,
  opts: TextDatasetOptions,
): Promise<StageResult> {
  const tokenizerPath = textTokenizerPath(ctx, opts);
  const { dataset, provenance, stats } = await loadTextDataset(opts, {
    resolvePath: (p) => ctx.resolvePath(p),
    tokenizerPath,
    progress: (label, total) => ctx.progress(label, total),
    signal: ctx.signal,
  });
  const manifest = await writeDatasetArtifact(ctx.outDir, dataset, { provenance });
  // The tokenizer travels with the tokens: a model trained on them is saved with it.
  const files = resolveTokenizerFiles(tokenizerPath);
  await copyTokenizerFiles(files, join(ctx.outDir, datasetTokenizerDir));
  const splits: Record<string, unknown> = {};
  for (const { name, ...s } of stats) splits[name] = s;
  const { documents } = provenance;
  ctx.log.info(
    `${dataset.source}: ${stats.map((s) => `${s.name} ${s.documents} documents, ${s.sequences} sequences`).join('; ')} of ${opts.seqLength} tokens, vocabulary ${dataset.numClasses}` +
      (documents.duplicates.length > 0
        ? `, ${documents.duplicates.length} duplicate documents dropped`
        : ''),
  );
  return {
    kind: 'dataset',
    manifest,
    metrics: {
      source: dataset.source,
      numClasses: dataset.numClasses,
      sampleShape: [opts.seqLength],
      tokenizerSha256: provenance.tokenizer.sha256,
      split: {
        validation: provenance.split.validation,
        test: provenance.split.test,
        salt: provenance.split.salt,
      },
      documents: {
        read: documents.read,
        used: documents.used,
        emptyDropped: documents.emptyDropped,
        duplicatesDropped: documents.duplicates.length,
      },
      splits,
    },
  };
}
