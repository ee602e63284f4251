// The `causal-lm` task: a sample is a sequence of seqLength token ids (stored as float32 in
// Samples.x, exact below 2^24; y is unused), a batch feeds them as int32 [count, seqLength], and,
// as in transformers, the logits at position t predict token t+1. The loss of a sequence is its
// mean next-token negative log-likelihood over the seqLength−1 predictions; evaluate reports the
// token-weighted mean and its perplexity.
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
import { withRowLogits, type RowLogits } from './row-logits.js';

export interface CausalLmShape {
  readonly vocabSize: number;
  /** Longest sequence the model takes (position table / max_position_embeddings), when bounded. */
  readonly maxPositions?: number;
}

/**
 * −log softmax(z)[target] of every row of z [rows, vocab]. The gradient softmax(z) − onehot(target)
 * is built with a scatter, so no [rows, vocab] one-hot is materialised (vocabularies are large).
 */
function tokenNll(logits: tf.Tensor2D, targets: tf.Tensor1D): tf.Tensor1D {
  const op = tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
    const z = args[0] as tf.Tensor2D;
    // Saved for the backward pass: anything else made here is disposed when the forward ends.
    (args[1] as tf.GradSaveFunc)([z, targets]);
    const [rows, vocab] = z.shape;
    const rowIds = (): tf.Tensor1D => tf.range(0, rows, 1, 'int32');
    const picked = tf.gather(
      tf.reshape(z, [-1]),
      tf.add(tf.mul(rowIds(), tf.scalar(vocab, 'int32')), targets),
    );
    return {
      value: tf.sub(tf.logSumExp(z, 1), picked),
      gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => {
        const [zs, ts] = saved as [tf.Tensor2D, tf.Tensor1D];
        const at = tf.stack([rowIds(), ts], 1);
        return tf.sub(
          tf.mul(tf.softmax(zs), tf.expandDims(dy, 1)),
          tf.scatterND(at, dy, [rows, vocab]),
        );
      },
    };
  });
  return op(logits) as tf.Tensor1D;
}

export class CausalLmTask implements Task {
  readonly name = 'causal-lm';

  constructor(readonly shape: CausalLmShape) {}

  /** Throws E_DATA naming `where` and the first sample whose ids the model cannot take. */
  private checkSamples(samples: Samples, where: string): void {
    const { vocabSize, maxPositions } = this.shape;
    const dims = samples.sampleShape;
    const seq = dims[0] ?? 0;
    if (dims.length !== 1 || seq < 2) {
      throw new ScalpelError(
        ErrorCode.Data,
        `${where}: causal-lm samples are token sequences [seqLength ≥ 2], but the data has shape [${dims.join(', ')}]`,
        {
          hint: 'load the dataset as token sequences of a fixed length',
        },
      );
    }
    if (maxPositions !== undefined && seq > maxPositions) {
      throw new ScalpelError(
        ErrorCode.Data,
        `${where}: sequences of ${seq} tokens are longer than the model's ${maxPositions} positions`,
        {
          hint: `use sequences of at most ${maxPositions} tokens`,
        },
      );
    }
    const x = samples.x;
    for (let i = 0; i < x.length; i++) {
      const id = x[i] as number;
      if (!(Number.isInteger(id) && id >= 0 && id < vocabSize)) {
        const k = Math.floor(i / seq);
        throw new ScalpelError(
          ErrorCode.Data,
          `${where}: sample id ${samples.ids[k]} has token ${id} at position ${i % seq}, outside the vocabulary [0, ${vocabSize})`,
          {
            hint: 'tokenize the data with the tokenizer of this model',
          },
        );
      }
    }
  }

  checkData(_dataset: Dataset, split: DatasetSplit, where: string): void {
    this.checkSamples(split, `${where} (split '${split.name}')`);
  }

  batch(samples: Samples, rows?: ArrayLike<number>): Batch {
    const b = rows === undefined ? samples : gatherSamples(samples, rows);
    this.checkSamples(b, 'causal-lm batch');
    const ids = tf.tensor2d(Int32Array.from(b.x), [b.count, b.sampleShape[0] ?? 0], 'int32');
    return { count: b.count, inputs: ids, targets: tf.clone(ids) };
  }

  /** Mean next-token NLL of each sequence: logits [count, seq, vocab], targets int32 [count, seq]. */
  perSampleLoss(output: tf.Tensor, batch: Batch): tf.Tensor1D {
    return tf.tidy(() => {
      const [count, seq, vocab] = output.shape as [number, number, number];
      // Every position predicts the next token; the last one has none and is weighted 0 (no
      // slice of the large logits tensor).
      const ids = batch.targets as tf.Tensor2D;
      const next = tf.concat(
        [tf.slice(ids, [0, 1], [-1, seq - 1]), tf.zeros([count, 1], 'int32')],
        1,
      );
      const nll = tf.reshape(
        tokenNll(tf.reshape(output, [count * seq, vocab]), tf.reshape(next, [-1])),
        [count, seq],
      );
      const weight = new Float32Array(seq).fill(1 / (seq - 1));
      weight[seq - 1] = 0;
      return tf.sum<tf.Tensor1D>(tf.mul(nll, tf.tensor1d(weight)), 1);
    });
  }

  /** A sequence's loss is the mean of its seqLength − 1 next-token NLLs (the Fisher's scale). */
  termsPerSample(batch: Batch): number {
    return Math.max((batch.inputs.shape[1] ?? 2) - 1, 1);
  }

  /**
   * Token-weighted mean NLL over `samples`, a batch at a time: the forward's temporaries are freed
   * before the loss, and the loss takes the logits a chunk of rows at a time (see
   * sequencesNllSum; with a HiddenStateLm the head too, see row-logits.ts).
   */
  evaluate(model: PrunableModel, samples: Samples, opts: EvaluateOptions): TaskMetrics {
    return this.combineEvaluation([this.evaluatePartial(model, samples, opts)], samples);
  }

  /**
   * At most maxLogitValues logits per forward: the batch size asked for is a ceiling (an image
   * batch of 1000 would be 2 GB of logits for a 4k vocabulary — past wasm's memory).
   */
  evaluationBatchSize(samples: Samples, opts: EvaluateOptions): number {
    const seq = samples.sampleShape[0] ?? 0;
    const perSequence = Math.max(seq * this.shape.vocabSize, 1);
    return Math.max(1, Math.min(opts.batchSize, Math.floor(maxLogitValues / perSequence)));
  }

  /** The NLL sum of every batch (summed in order by combine). */
  evaluatePartial(
    model: PrunableModel,
    samples: Samples,
    opts: EvaluateOptions,
  ): EvaluationPartial {
    const seq = samples.sampleShape[0] ?? 0;
    const batchSize = this.evaluationBatchSize(samples, opts);
    const terms = new Float64Array(Math.ceil(samples.count / batchSize));
    for (let start = 0, b = 0; start < samples.count; start += batchSize, b++) {
      const part = sliceSamples(samples, start, Math.min(start + batchSize, samples.count));
      const batch = this.batch(part);
      try {
        terms[b] = withRowLogits(model, batch.inputs as tf.Tensor2D, (rowLogits, vocab) =>
          sequencesNllSum(rowLogits, part.count, seq, vocab, part.x),
        );
      } finally {
        tf.dispose([batch.inputs, batch.targets]);
      }
    }
    return { count: samples.count, counts: [], terms };
  }

  combineEvaluation(
    parts: readonly EvaluationPartial[],
    whole: Pick<Samples, 'count' | 'sampleShape'>,
  ): TaskMetrics {
    const predictions = Math.max((whole.sampleShape[0] ?? 0) - 1, 0);
    let nllSum = 0;
    for (const p of parts) for (const v of p.terms) nllSum += v;
    const tokens = whole.count * predictions;
    const loss = nllSum / Math.max(tokens, 1);
    return { count: whole.count, loss, values: { perplexity: Math.exp(loss), tokens } };
  }
}

/** Logits per evaluation forward (64 MB of float32). */
const maxLogitValues = 1 << 24;

/** Logit values per chunk of rows: the softmax temporaries stay ≈ 8 MB whatever the vocabulary. */
const chunkValues = 1 << 21;

/**
 * Σ −log p(next token) over every predicted position of a batch of `count` sequences of `seq`
 * (float64 sum), `ids` the batch's tokens, the logits taken a chunk of rows at a time: with a 50k
 * vocabulary they are 25 MB per sequence of 128, and a whole-batch softmax would need two more
 * copies.
 */
function sequencesNllSum(
  rowLogits: RowLogits,
  count: number,
  seq: number,
  vocab: number,
  ids: ArrayLike<number>,
): number {
  const rows = count * seq;
  const chunk = Math.max(1, Math.floor(chunkValues / vocab));
  let sum = 0;
  for (let r0 = 0; r0 < rows; r0 += chunk) {
    const r1 = Math.min(rows, r0 + chunk);
    // Row r = b·seq + t predicts token t + 1 of sequence b; the last position of each has none.
    const targets = new Int32Array(r1 - r0);
    for (let r = r0; r < r1; r++) targets[r - r0] = r % seq < seq - 1 ? (ids[r + 1] as number) : 0;
    const nll = tf.tidy(() =>
      tokenNll(rowLogits(tf.range(r0, r1, 1, 'int32')), tf.tensor1d(targets, 'int32')),
    );
    const values = nll.dataSync();
    nll.dispose();
    for (let r = r0; r < r1; r++) if (r % seq < seq - 1) sum += values[r - r0] as number;
  }
  return sum;
}
