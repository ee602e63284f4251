// log p(target | prefix) at chosen positions of a batch's logits. Only the rows of the chosen
// positions are gathered before the softmax, so padded positions are never read and the large
// [batch, seq, vocab] tensor is not sliced or copied whole; they are taken a chunk at a time, so the
// softmax's temporaries stay small with a 50k vocabulary too. From a model, a HiddenStateLm makes
// only the chosen rows' logits, a chunk at a time.
import * as tf from '@tensorflow/tfjs-core';
import { withRowLogits, type RowLogits } from '../models/tasks/row-logits.js';
import type { PrunableModel } from '../plugin-api/model.js';

export interface TargetLogProbs {
  /** log p(targets[i]) at positions[i], computed in float32 per token. */
  readonly logProbs: Float32Array;
  /** 1 where the target is the arg-max token at its position (when asked for). */
  readonly greedy?: Uint8Array;
}

/** Logit values per chunk of positions: the softmax temporaries stay ≈ 8 MB whatever the vocabulary. */
const chunkValues = 1 << 21;

/**
 * `logits` [batch, seq, vocab]; `positions` are flat row indices b·seq + t; `targets` the token
 * each of those positions must predict.
 */
export function targetLogProbs(
  logits: tf.Tensor,
  positions: Int32Array,
  targets: Int32Array,
  withGreedy = false,
): TargetLogProbs {
  const [batch, seq, vocab] = logits.shape as [number, number, number];
  return rowTargetLogProbs(
    (rows) => tf.gather(tf.reshape(logits, [batch * seq, vocab]), rows),
    vocab,
    positions,
    targets,
    withGreedy,
  );
}

/**
 * targetLogProbs of the model's batch `ids` [batch, seq]: with a HiddenStateLm the logits of the
 * chosen positions only, a chunk at a time (row-logits.ts).
 */
export function modelTargetLogProbs(
  model: PrunableModel,
  ids: tf.Tensor2D,
  positions: Int32Array,
  targets: Int32Array,
  withGreedy = false,
): TargetLogProbs {
  return withRowLogits(model, ids, (rowLogits, vocab) =>
    rowTargetLogProbs(rowLogits, vocab, positions, targets, withGreedy),
  );
}

function rowTargetLogProbs(
  rowLogits: RowLogits,
  vocab: number,
  positions: Int32Array,
  targets: Int32Array,
  withGreedy: boolean,
): TargetLogProbs {
  const n = positions.length;
  if (n === 0)
    return { logProbs: new Float32Array(0), ...(withGreedy ? { greedy: new Uint8Array(0) } : {}) };
  const chunk = Math.max(1, Math.floor(chunkValues / vocab));
  const logProbs = new Float32Array(n);
  const greedy = withGreedy ? new Uint8Array(n) : undefined;
  for (let s0 = 0; s0 < n; s0 += chunk) {
    const s1 = Math.min(n, s0 + chunk);
    const m = s1 - s0;
    const out = tf.tidy(() => {
      const rows = rowLogits(tf.tensor1d(positions.subarray(s0, s1), 'int32'));
      const t = tf.tensor1d(targets.subarray(s0, s1), 'int32');
      const flat = tf.add(tf.mul(tf.range(0, m, 1, 'int32'), tf.scalar(vocab, 'int32')), t);
      const picked = tf.gather(tf.reshape(rows, [-1]), flat);
      const lp = tf.sub(picked, tf.logSumExp(rows, 1));
      return withGreedy ? [lp, tf.cast(tf.equal(tf.argMax(rows, 1), t), 'int32')] : [lp];
    });
    logProbs.set(out[0]?.dataSync() ?? [], s0);
    if (greedy !== undefined && out[1] !== undefined) greedy.set(out[1].dataSync(), s0);
    tf.dispose(out);
  }
  return { logProbs, ...(greedy !== undefined ? { greedy } : {}) };
}
