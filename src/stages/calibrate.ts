// calibrate: per prunable layer, statistics of its input X [rows, fanIn] over calibration samples
// (‖X_i‖₂ for Wanda, XᵀX for SparseGPT) and the mean loss gradient w.r.t. its weight. The
// inputs are recorded by the model's forward (ForwardHooks.recordInputs: the matrix X the weight
// multiplies — im2col patches for convolutions), for every family and topology. Output: a
// 'calibration' artifact (calibration-artifact.ts) that also records where the samples came from
// (source, split, ids, seed, sample shape = sequence length for text). With `sequential` (default
// for causal LMs) it keeps the samples themselves, and the prune stage computes each block's
// statistics from the model as pruned so far (src/pruning/sequential-pruning.ts).
import { gatherSamples } from '../data/batches.js';
import { writeCalibrationArtifact } from '../pruning/calibration-artifact.js';
import type { LayerStatisticsRequest } from '../pruning/layer-statistics.js';
import { calibrationStatistics } from '../parallel/calibration.js';
import { defineStage } from '../plugin-api/plugin.js';
import type { StageContext, StageResult } from '../plugin-api/stage.js';
import { readSchema } from '../util/schemas.js';
import { checkData, loadDatasetInput, loadModelInput, splitSamples } from './stage-inputs.js';

export type CalibrateParams = {
  samples: number;
  split: string;
  seed?: number;
  batchSize: number;
  inputNorms: boolean;
  meanGradient?: boolean;
  gram: boolean;
  gramMaxFanIn: number;
  sequential?: boolean;
};

export const calibrateStage = defineStage<CalibrateParams>({
  name: 'calibrate',
  version: '1',
  description:
    'Per-layer input norms, XᵀX and mean gradients over calibration samples (for wanda, sparsegpt, gradient pruners)',
  schema: readSchema('stages/calibrate.schema.json'),
  output: 'calibration',
  inputs: [{ kind: 'model' }, { kind: 'dataset' }],
  async run(ctx: StageContext<CalibrateParams>): Promise<StageResult> {
    const p = ctx.params;
    const model = await loadModelInput(ctx);
    const layers = model.operators;
    try {
      const dataset = await loadDatasetInput(ctx);
      const split = splitSamples(ctx, dataset, p.split, 0);
      checkData(ctx, model, dataset, split);
      const count = Math.min(p.samples, split.count);
      if (count < p.samples)
        ctx.log.warn(
          `split '${p.split}' has only ${split.count} samples; calibrating on all of them`,
        );
      const rows = ctx.rng.fork('calibration-samples').permutation(split.count).subarray(0, count);
      const samples = gatherSamples(split, rows);

      // Sequential pruning (the LLM pruners' convention, default for causal LMs) computes each
      // block's statistics at prune time from the partly pruned model, so here only the samples
      // and the dense input norms (for OWL and init masks) are kept: no XᵀX of every layer.
      const sequential = p.sequential ?? model.task.name === 'causal-lm';
      const meanGradient = p.meanGradient ?? model.task.name !== 'causal-lm';
      const skipped: Record<string, string> = {};
      const requests: LayerStatisticsRequest[] = layers.map((info) => {
        // XᵀX means something only where z = X·W (not for depthwise convolutions).
        const linear = model.isLinearInInput(info.name);
        if (!linear && p.gram) {
          skipped[info.name] = 'not linear in its input matrix: no XᵀX';
          ctx.log.warn(
            `layer '${info.name}' (${info.kind}) is not linear in its input matrix; no XᵀX for it`,
          );
        }
        return {
          info,
          inputNorms: p.inputNorms,
          gram: !sequential && linear && (p.gram || info.fanIn <= p.gramMaxFanIn),
          meanGradient,
        };
      });
      const bar = ctx.progress(`${ctx.stageId}: ${count} samples`, count);
      const out = await calibrationStatistics(model, samples, requests, {
        batchSize: p.batchSize,
        signal: ctx.signal,
        progress: bar,
      });
      bar.done();

      const sampleIds = Array.from(samples.ids);
      const manifest = await writeCalibrationArtifact(ctx.outDir, {
        samples: count,
        sampleIds,
        split: p.split,
        layers: out,
        provenance: {
          source: dataset.source,
          seed: ctx.seed,
          sampleShape: [...samples.sampleShape],
        },
        ...(sequential ? { sequential: { batchSize: p.batchSize, samples } } : {}),
      });
      ctx.log.info(
        `${ctx.stageId}: ${count} samples from '${p.split}', ${out.size} layers (${sequential ? 'sequential: per-block statistics at prune time; ' : ''}${[...out].map(([name, c]) => `${name}: ${[c.inputNorms ? 'norms' : '', c.gram ? 'gram' : '', c.meanGradient ? 'grad' : ''].filter(Boolean).join('+')}`).join(', ')})`,
      );
      return {
        kind: 'calibration',
        manifest,
        metrics: {
          samples: count,
          split: p.split,
          source: dataset.source,
          seed: ctx.seed,
          sampleShape: [...samples.sampleShape],
          sequential,
          layers: [...out].map(([name, c]) => ({
            name,
            rows: c.rows,
            inputNorms: c.inputNorms !== undefined,
            gram: c.gram !== undefined,
            meanGradient: c.meanGradient !== undefined,
          })),
          ...(Object.keys(skipped).length > 0 ? { skipped } : {}),
        },
      };
    } finally {
      model.dispose();
    }
  },
});
