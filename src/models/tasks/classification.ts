// The `classification` task: a batch is samples shaped for the model's input and int32 class
// labels; the loss is sparse categorical cross-entropy (loss.ts: from logits, or from
// probabilities where the model ends in softmax); metrics are top-1 (and top-k) accuracy.
import * as tf from '@tensorflow/tfjs-core';
import { ErrorCode, ScalpelError } from '../../errors.js';
import { gatherSamples, sliceSamples } from '../../data/batches.js';
import type { Dataset, DatasetSplit, Samples } from '../../plugin-api/dataset.js';
import type { PrunableModel } from '../../plugin-api/model.js';
import type {
  Batch,
  EvaluateOptions,
  EvaluationPartial,
  Task,
  TaskMetrics,
} from '../../plugin-api/task.js';
import { perSampleLoss, type OutputKind } from '../loss.js';
import { meanCrossEntropyTwice } from '../twice-differentiable.js';

export interface ClassificationShape {
  /** Shape of one input sample, null for a free dimension. */
  readonly inputShape: readonly (number | null)[];
  /** Number of output units (classes), when known. */
  readonly classes: number | undefined;
  readonly outputKind: OutputKind;
}

export class ClassificationTask implements Task {
  readonly name = 'classification';

  constructor(readonly shape: ClassificationShape) {}

  get outputKind(): OutputKind {
    return this.shape.outputKind;
  }

  checkData(dataset: Dataset, split: DatasetSplit, where: string): void {
    const input = this.shape.inputShape;
    const sampleShape = split.sampleShape;
    const fits =
      input.length === sampleShape.length &&
      input.every((d, i) => d === null || d === sampleShape[i]);
    if (!fits) {
      const same =
        input.reduce<number>((a, b) => a * (b ?? 1), 1) === sampleShape.reduce((a, b) => a * b, 1);
      throw new ScalpelError(
        ErrorCode.Stage,
        `${where}: the model takes samples of shape [${input.join(', ')}] but the dataset has [${sampleShape.join(', ')}]`,
        {
          hint: same
            ? "set the dataset's shape option (load-dataset) or add a reshape layer to the model"
            : 'use a dataset that matches the model (or a model built for this dataset)',
        },
      );
    }
    const units = this.shape.classes;
    if (units !== undefined && units < dataset.numClasses) {
      throw new ScalpelError(
        ErrorCode.Stage,
        `${where}: the model has ${units} outputs but the dataset has ${dataset.numClasses} classes`,
        { hint: 'make the last dense layer as wide as the number of classes' },
      );
    }
  }

  /** The model's per-sample input shape for these samples (a flat [784] feeds [28, 28, 1] when sizes agree). */
  private sampleShapeFor(samples: Samples): number[] {
    const dims = this.shape.inputShape;
    if (dims.some((d) => d === null)) return [...samples.sampleShape];
    const size = samples.sampleShape.reduce((a, b) => a * b, 1);
    const shape = dims as number[];
    if (shape.reduce((a, b) => a * b, 1) !== size) {
      throw new ScalpelError(
        ErrorCode.Stage,
        `the model takes samples of shape [${shape.join(', ')}] but the data has [${samples.sampleShape.join(', ')}]`,
        { hint: 'use a dataset that matches the model' },
      );
    }
    return shape;
  }

  batch(samples: Samples, rows?: ArrayLike<number>): Batch {
    const b = rows === undefined ? samples : gatherSamples(samples, rows);
    const classes = this.shape.classes;
    if (classes !== undefined) {
      for (let k = 0; k < b.count; k++) {
        const c = b.y[k] as number;
        if (!(c >= 0 && c < classes)) {
          throw new ScalpelError(
            ErrorCode.Data,
            `sample id ${b.ids[k]} has label ${c}, outside [0, ${classes})`,
            {
              hint: 'the model has fewer outputs than the dataset has classes, or the labels are wrong',
            },
          );
        }
      }
    }
    return {
      count: b.count,
      inputs: tf.tensor(b.x, [b.count, ...this.sampleShapeFor(b)], 'float32'),
      targets: tf.tensor1d(b.y, 'int32'),
    };
  }

  perSampleLoss(output: tf.Tensor, batch: Batch): tf.Tensor1D {
    return perSampleLoss(output, batch.targets as tf.Tensor1D, this.outputKind);
  }

  countCorrect(output: tf.Tensor, batch: Batch): tf.Scalar {
    return tf.tidy(() =>
      tf.sum<tf.Scalar>(tf.cast(tf.equal(tf.argMax(output, 1), batch.targets), 'int32')),
    );
  }

  /** Mean cross-entropy of LOGITS (forward with hooks.logits), twice differentiable. */
  meanLossTwiceDifferentiable(logits: tf.Tensor, batch: Batch): tf.Scalar {
    return meanCrossEntropyTwice(logits, batch.targets as tf.Tensor1D);
  }

  evaluate(model: PrunableModel, samples: Samples, opts: EvaluateOptions): TaskMetrics {
    return this.combineEvaluation([this.evaluatePartial(model, samples, opts)], samples, opts);
  }

  evaluationBatchSize(_samples: Samples, opts: EvaluateOptions): number {
    return opts.batchSize;
  }

  /** Correct top-1 and top-k counts, and every sample's loss (summed in order by combine). */
  evaluatePartial(
    model: PrunableModel,
    samples: Samples,
    opts: EvaluateOptions,
  ): EvaluationPartial {
    const k = opts.topK ?? 1;
    let correct = 0;
    let correctK = 0;
    const terms = new Float64Array(samples.count);
    for (let start = 0; start < samples.count; start += opts.batchSize) {
      const part = sliceSamples(samples, start, Math.min(start + opts.batchSize, samples.count));
      const [hit, hitK, losses] = tf.tidy(() => {
        const batch = this.batch(part);
        const out = model.forward(batch.inputs).output as tf.Tensor2D;
        const y = batch.targets as tf.Tensor1D;
        const top1 = this.countCorrect(out, batch);
        let topk: tf.Tensor = tf.scalar(0, 'int32');
        if (k > 1) {
          const idx = tf.topk(out, Math.min(k, out.shape[1]), true).indices;
          topk = tf.sum(tf.cast(tf.equal(idx, tf.expandDims(y, 1)), 'int32'));
        }
        return [top1, topk, this.perSampleLoss(out, batch)];
      });
      correct += hit.dataSync()[0] ?? 0;
      correctK += hitK.dataSync()[0] ?? 0;
      terms.set(losses.dataSync(), start);
      tf.dispose([hit, hitK, losses]);
    }
    return { count: samples.count, counts: [correct, correctK], terms };
  }

  combineEvaluation(
    parts: readonly EvaluationPartial[],
    whole: Pick<Samples, 'count'>,
    opts: EvaluateOptions,
  ): TaskMetrics {
    const k = opts.topK ?? 1;
    let correct = 0;
    let correctK = 0;
    let lossSum = 0;
    for (const p of parts) {
      correct += p.counts[0] ?? 0;
      correctK += p.counts[1] ?? 0;
      for (const v of p.terms) lossSum += v;
    }
    const n = Math.max(whole.count, 1);
    return {
      count: whole.count,
      loss: lossSum / n,
      values: { accuracy: correct / n, ...(k > 1 ? { [`top${k}Accuracy`]: correctK / n } : {}) },
    };
  }
}
