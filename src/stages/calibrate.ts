// calibrate: per prunable layer, statistics of its input X [rows, fanIn] over calibration samples
// (‖X_i‖₂ for Wanda, XᵀX for SparseGPT) and the mean loss gradient w.r.t. its kernel. Inputs are
// captured by running the layers in sequence (layer-chain.ts); Conv2D inputs become im2col
// patches (layer-input-matrix.ts). Output: a 'calibration' artifact (calibration-artifact.ts).
import * as tf from '@tensorflow/tfjs-core';
import { ErrorCode, ScalpelError } from '../errors.js';
import { kernelVariable } from '../models/kernel-variables.js';
import { chainForward, layerChain } from '../models/layer-chain.js';
import { inputMatrixSupport, layerInputMatrix } from '../models/layer-input-matrix.js';
import { meanLoss, outputKindOf } from '../models/loss.js';
import { readModelArtifact } from '../models/model-artifact.js';
import { gatherSamples, sliceSamples } from '../data/batches.js';
import { batchTensors } from '../models/samples.js';
import { writeCalibrationArtifact } from '../pruning/calibration-artifact.js';
import type { LayerCalibration } from '../plugin-api/calibration.js';
import type { PrunableLayerInfo } from '../plugin-api/layers.js';
import { defineStage } from '../plugin-api/plugin.js';
import type { StageContext, StageResult } from '../plugin-api/stage.js';
import { readSchema } from '../util/schemas.js';
import { checkLabels, checkModelInput, loadDatasetInput, splitSamples } from './stage-inputs.js';

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
    const { model, layers } = await readModelArtifact(ctx.input('model'));
    try {
      const dataset = await loadDatasetInput(ctx);
      const split = splitSamples(ctx, dataset, p.split, 0);
      checkModelInput(ctx, model, split.sampleShape);
      checkLabels(ctx, model, dataset.numClasses);
      const chain = layerChain(model);
      if (chain === undefined) {
        throw new ScalpelError(
          ErrorCode.Stage,
          `stage '${ctx.stageId}': the model is not a single chain of layers; calibrate supports sequential models`,
          { stageId: ctx.stageId },
        );
      }
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
        const layer = chain.find((l) => l.name === info.name);
        const support =
          layer === undefined
            ? { ok: false as const, reason: 'not in the layer chain' }
            : inputMatrixSupport(layer, info);
        if (!support.ok) {
          skipped[info.name] = support.reason;
          ctx.log.warn(`layer '${info.name}': ${support.reason}; no calibration statistics for it`);
          continue;
        }
        const acc: Accumulator = { info, rows: 0 };
        if (p.inputNorms) acc.sq = new Float64Array(info.fanIn);
        if (p.gram || info.fanIn <= p.gramMaxFanIn)
          acc.gram = new Float64Array(info.fanIn * info.fanIn);
        if (p.meanGradient) acc.grad = new Float64Array(info.paramCount);
        accs.set(info.name, acc);
      }
      const kind = outputKindOf(model);
      const bar = ctx.progress(`${ctx.stageId}: ${count} samples`, count);
      for (let start = 0; start < count; start += p.batchSize) {
        ctx.signal.throwIfAborted();
        const part = sliceSamples(samples, start, Math.min(start + p.batchSize, count));
        const { x, y } = batchTensors(part, undefined);
        try {
          // Pass 1: layer inputs → Σx², XᵀX (XᵀX by a float32 matMul per batch, summed in float64).
          const stats = new Map<string, { sq?: tf.Tensor; gram?: tf.Tensor; rows: number }>();
          tf.tidy(() => {
            chainForward(chain, x, {
              onLayerInput: (layer, input) => {
                const acc = accs.get(layer.name);
                if (acc === undefined) return;
                const X = layerInputMatrix(layer, acc.info, input);
                stats.set(layer.name, {
                  rows: X.shape[0],
                  ...(acc.sq !== undefined ? { sq: tf.keep(tf.sum(tf.square(X), 0)) } : {}),
                  ...(acc.gram !== undefined
                    ? { gram: tf.keep(tf.matMul(X, X, true, false)) }
                    : {}),
                });
              },
            });
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
            const vars = withGrad.map((a) => kernelVariable(model, a.info.name));
            const { value, grads } = tf.variableGrads(
              () => meanLoss(chainForward(chain, x), y, kind),
              vars,
            );
            for (let i = 0; i < withGrad.length; i++) {
              const g = grads[(vars[i] as tf.Variable).name];
              if (g !== undefined)
                addInto(
                  (withGrad[i] as Accumulator).grad as Float64Array,
                  await g.data(),
                  part.count / count,
                );
            }
            tf.dispose([value, ...Object.values(grads)]);
          }
        } finally {
          tf.dispose([x, y]);
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
