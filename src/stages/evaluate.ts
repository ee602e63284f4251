// evaluate: accuracy, loss, sparsity (from the actual weights), parameter counts, size on disk and
// latency of a model artifact on a dataset split. Output kind 'metrics' (also written to
// metrics.json in the stage directory).
import { evaluateModel } from '../parallel/evaluation.js';
import { join } from 'node:path';
import { modelSizeOnDisk } from '../models/model-size.js';
import { measureLatency, measureSparsity } from '../models/metrics.js';
import { defineStage } from '../plugin-api/plugin.js';
import type { StageContext, StageResult } from '../plugin-api/stage.js';
import { writeJsonAtomic } from '../util/atomic-file.js';
import { readSchema } from '../util/schemas.js';
import { readDatasetManifest, requireSplit } from '../data/dataset-artifact.js';
import { bitsPerByte, splitTextCounts } from '../eval/bits-per-byte.js';
import { unigramPerplexity } from '../eval/unigram.js';
import {
  evaluateZeroShot,
  zeroShotFingerprint,
  type ZeroShotParams,
} from './evaluate-zero-shot.js';
import { checkData, loadDatasetInput, loadModelInput, splitSamples } from './stage-inputs.js';

export type EvaluateMetric =
  'accuracy' | 'loss' | 'perplexity' | 'zero-shot' | 'unigram' | 'sparsity' | 'size' | 'latency';

export type EvaluateParams = {
  metrics: EvaluateMetric[];
  split: string;
  samples: number;
  topK: number;
  batchSize: number;
  latencyBatch: number;
  latencyRuns: number;
  warmup: number;
  zeroShot?: ZeroShotParams;
};

const pct = (v: number): string => `${(100 * v).toFixed(2)}%`;
const kb = (b: number): string => `${(b / 1024).toFixed(1)} KiB`;

export const evaluateStage = defineStage<EvaluateParams>({
  name: 'evaluate',
  version: '1',
  description: 'Accuracy, loss, sparsity, parameter counts, size and latency of a model',
  schema: readSchema('stages/evaluate.schema.json'),
  output: 'metrics',
  inputs: [
    { kind: 'model' },
    { kind: 'dataset', optional: true },
    { kind: 'tasks', optional: true, multiple: true, reason: 'zero-shot task files' },
  ],
  fingerprint(params, ctx) {
    return zeroShotFingerprint(params.zeroShot?.tasks, (p) => ctx.resolvePath(p));
  },
  async run(ctx: StageContext<EvaluateParams>): Promise<StageResult> {
    const p = ctx.params;
    const want = new Set(p.metrics);
    const quality = want.has('accuracy') || want.has('loss') || want.has('perplexity');
    const unigram = want.has('unigram');
    const needsData = quality || unigram || want.has('latency');
    const artifact = ctx.input('model');
    const model = await loadModelInput(ctx, artifact);
    const masks = model.masks;
    const metrics: Record<string, unknown> = {};
    const summary: string[] = [];
    try {
      if (needsData) {
        const dataset = await loadDatasetInput(ctx);
        const samples = splitSamples(ctx, dataset, p.split, p.samples);
        checkData(ctx, model, dataset, samples);
        if (quality) {
          const started = performance.now();
          const q = await evaluateModel(model, samples, { batchSize: p.batchSize, topK: p.topK });
          const seconds = (performance.now() - started) / 1000;
          metrics.split = p.split;
          metrics.samples = q.count;
          const accuracy = q.values.accuracy;
          const perplexity = q.values.perplexity;
          // Metrics the task does not have (accuracy of a language model…) are skipped with a note.
          for (const [name, value] of [
            ['accuracy', accuracy],
            ['perplexity', perplexity],
          ] as const) {
            if (want.has(name) && value === undefined)
              ctx.log.info(`${ctx.stageId}: task '${model.task.name}' has no ${name}; skipped`);
          }
          if (want.has('perplexity') && perplexity !== undefined) {
            metrics.perplexity = perplexity;
            const tokens = q.values.tokens;
            if (tokens !== undefined) {
              metrics.tokens = tokens;
              metrics.tokensPerSecond = tokens / Math.max(seconds, 1e-9);
              const counts = splitTextCounts(
                (await readDatasetManifest(ctx.input('dataset'))).provenance,
                p.split,
              );
              if (counts !== undefined) metrics.bitsPerByte = bitsPerByte(q.loss, tokens, counts);
            }
            summary.push(
              `perplexity ${perplexity.toFixed(3)} on ${tokens ?? q.count} ${p.split} ${tokens !== undefined ? 'tokens' : 'samples'}`,
            );
          }
          if (want.has('accuracy') && accuracy !== undefined) {
            metrics.accuracy = accuracy;
            const topKey = `top${p.topK}Accuracy`;
            const topK = q.values[topKey];
            if (topK !== undefined) metrics[topKey] = topK;
            summary.push(
              `accuracy ${pct(accuracy)}${topK !== undefined ? ` (top-${p.topK} ${pct(topK)})` : ''} on ${q.count} ${p.split} samples`,
            );
          }
          if (want.has('loss')) {
            metrics.loss = q.loss;
            summary.push(`loss ${q.loss.toFixed(4)}`);
          }
        }
        if (unigram) {
          const train = requireSplit(dataset, 'train', ctx.stageId);
          const u = unigramPerplexity(train, samples, dataset.numClasses);
          metrics.unigramPerplexity = u.perplexity;
          summary.push(
            `unigram baseline perplexity ${u.perplexity.toFixed(2)} (train-split counts, add-one)`,
          );
        }
        if (want.has('latency')) {
          const lat = await measureLatency(model, samples, {
            batch: p.latencyBatch,
            runs: p.latencyRuns,
            warmup: p.warmup,
          });
          metrics.latency = {
            medianMs: lat.medianMs,
            batch: lat.batch,
            runs: lat.runs,
            backend: ctx.backend,
          };
          summary.push(
            `latency ${lat.medianMs.toFixed(2)} ms per batch of ${lat.batch} (${ctx.backend})`,
          );
        }
      }
      if (want.has('zero-shot')) {
        const z = await evaluateZeroShot(ctx, model);
        metrics.zeroShot = z.metrics;
        summary.push(...z.summary);
      }
      if (want.has('sparsity')) {
        const s = measureSparsity(model);
        metrics.sparsity = {
          total: s.prunable.sparsity,
          prunableParams: s.prunable.params,
          zeros: s.prunable.zeros,
          layers: s.layers,
        };
        metrics.params = { ...s.params, masked: masks.size > 0 };
        summary.push(
          `sparsity ${pct(s.prunable.sparsity)} (${s.layers.map((l) => `${l.name} ${pct(l.sparsity)}`).join(', ')}), ${s.params.nonZero}/${s.params.total} non-zero parameters`,
        );
      }
      if (want.has('size')) {
        const size = await modelSizeOnDisk(
          artifact.dir,
          typeof artifact.manifest.modelJson === 'string' ? artifact.manifest.modelJson : undefined,
        );
        metrics.size = size;
        summary.push(`size ${kb(size.bytes)} (gzip ${kb(size.gzipBytes)})`);
      }
    } finally {
      model.dispose();
    }
    await writeJsonAtomic(join(ctx.outDir, 'metrics.json'), metrics);
    ctx.log.info(`${ctx.stageId}: ${summary.join('; ')}`);
    return { kind: 'metrics', manifest: { metrics: 'metrics.json' }, metrics };
  },
});
