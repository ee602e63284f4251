// calibrate: per prunable layer, statistics of its input X [rows, fanIn] over calibration samples
// (‖X_i‖₂ for Wanda, XᵀX for SparseGPT) and the mean loss gradient w.r.t. its weight. The
// inputs are recorded by the model's forward (ForwardHooks.recordInputs: the matrix X the weight
// multiplies — im2col patches for convolutions), for every family and topology. Output: a
// 'calibration' artifact (calibration-artifact.ts).
import * as tf from '@tensorflow/tfjs-core';
import { gatherSamples, sliceSamples } from '../data/batches.js';
import { disposeTaskBatch } from '../models/task-batch.js';
import { readTensor } from '../models/read-tensor.js';
import { writeCalibrationArtifact } from '../pruning/calibration-artifact.js';
import type { LayerCalibration } from '../plugin-api/calibration.js';
import type { PrunableLayerInfo } from '../plugin-api/layers.js';
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
  meanGradient: boolean;
  gram: boolean;
  gramMaxFanIn: number;
};

interface Accumulator {
  info: PrunableLayerInfo;
  rows: number;
  sq?: Float64Array;
  gram?: Float64Array;
  grad?: Float64Array;
}

function addInto(acc: Float64Array, values: ArrayLike<number>, weight = 1): void {
  for (let i = 0; i < acc.length; i++) acc[i] = (acc[i] as number) + weight * (values[i] as number);
}

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

      const accs = new Map<string, Accumulator>();
      const skipped: Record<string, string> = {};
      for (const info of layers) {
        const acc: Accumulator = { info, rows: 0 };
        if (p.inputNorms) acc.sq = new Float64Array(info.fanIn);
        // XᵀX means something only where z = X·W (not for depthwise convolutions).
        const linear = model.isLinearInInput(info.name);
        if (!linear && p.gram) {
          skipped[info.name] = 'not linear in its input matrix: no XᵀX';
          ctx.log.warn(
            `layer '${info.name}' (${info.kind}) is not linear in its input matrix; no XᵀX for it`,
          );
        }
        if (linear && (p.gram || info.fanIn <= p.gramMaxFanIn))
          acc.gram = new Float64Array(info.fanIn * info.fanIn);
        if (p.meanGradient) acc.grad = new Float64Array(info.paramCount);
        accs.set(info.name, acc);
      }
      const record = new Set(accs.keys());
      const bar = ctx.progress(`${ctx.stageId}: ${count} samples`, count);
      for (let start = 0; start < count; start += p.batchSize) {
        ctx.signal.throwIfAborted();
        const part = sliceSamples(samples, start, Math.min(start + p.batchSize, count));
        const batch = model.task.batch(part);
        try {
          // Pass 1: layer inputs → Σx², XᵀX (XᵀX by a float32 matMul per batch, summed in float64).
          const stats = new Map<string, { sq?: tf.Tensor; gram?: tf.Tensor; rows: number }>();
          tf.tidy(() => {
            const run = model.forward(batch.inputs, { recordInputs: record });
            for (const [name, X] of run.inputs) {
              const acc = accs.get(name) as Accumulator;
              stats.set(name, {
                rows: X.shape[0] ?? 0,
                ...(acc.sq !== undefined ? { sq: tf.keep(tf.sum(tf.square(X), 0)) } : {}),
                ...(acc.gram !== undefined ? { gram: tf.keep(tf.matMul(X, X, true, false)) } : {}),
              });
            }
          });
          for (const [name, s] of stats) {
            const acc = accs.get(name) as Accumulator;
            acc.rows += s.rows;
            if (s.sq !== undefined && acc.sq !== undefined) addInto(acc.sq, await s.sq.data());
            if (s.gram !== undefined && acc.gram !== undefined)
              addInto(acc.gram, await s.gram.data());
            tf.dispose([s.sq ?? [], s.gram ?? []]);
          }
          // Pass 2: gradient of the batch's mean loss, weighted by its share of the samples.
          const withGrad = [...accs.values()].filter((a) => a.grad !== undefined);
          if (withGrad.length > 0) {
            const vars = withGrad.map((a) => model.weightVariable(a.info.name));
            const { value, grads } = tf.variableGrads(
              () =>
                tf.mean(
                  model.task.perSampleLoss(
                    model.forward(batch.inputs, { weightGradients: true }).output,
                    batch,
                  ),
                ) as tf.Scalar,
              vars,
            );
            for (let i = 0; i < withGrad.length; i++) {
              const acc = withGrad[i] as Accumulator;
              const g = grads[(vars[i] as tf.Variable).name];
              if (g === undefined) continue;
              // The statistic is kept in the [fanIn, units] view, whatever the variable's layout.
              const values =
                model.weightLayout(acc.info.name) === 'transposed'
                  ? readTensor(() => tf.transpose(g))
                  : await g.data();
              addInto(acc.grad as Float64Array, values, part.count / count);
            }
            tf.dispose([value, ...Object.values(grads)]);
          }
        } finally {
          disposeTaskBatch(batch);
        }
        bar.tick(part.count);
      }
      bar.done();

      const out = new Map<string, LayerCalibration>();
      for (const [name, acc] of accs) {
        const cal: LayerCalibration = { rows: acc.rows };
        if (acc.sq !== undefined) cal.inputNorms = Float32Array.from(acc.sq, Math.sqrt);
        if (acc.gram !== undefined) cal.gram = acc.gram;
        if (acc.grad !== undefined) cal.meanGradient = Float32Array.from(acc.grad);
        out.set(name, cal);
      }
      const sampleIds = Array.from(samples.ids);
      const manifest = await writeCalibrationArtifact(ctx.outDir, {
        samples: count,
        sampleIds,
        split: p.split,
        layers: out,
      });
      ctx.log.info(
        `${ctx.stageId}: ${count} samples from '${p.split}', ${out.size} layers (${[...accs.values()].map((a) => `${a.info.name}: ${[a.sq ? 'norms' : '', a.gram ? 'gram' : '', a.grad ? 'grad' : ''].filter(Boolean).join('+')}`).join(', ')})`,
      );
      return {
        kind: 'calibration',
        manifest,
        metrics: {
          samples: count,
          split: p.split,
          layers: [...accs.values()].map((a) => ({
            name: a.info.name,
            rows: a.rows,
            inputNorms: a.sq !== undefined,
            gram: a.gram !== undefined,
            meanGradient: a.grad !== undefined,
          })),
          ...(Object.keys(skipped).length > 0 ? { skipped } : {}),
        },
      };
    } finally {
      model.dispose();
    }
  },
});
