// The building blocks GPT-2 and Llama share, as plain tfjs ops every backend differentiates:
// embedding lookup, causal (grouped-query) attention, LayerNorm, RMSNorm and the activations.
// Hidden states are [batch·seq, width] matrices throughout, the rows every operator's X has.
import * as tf from '@tensorflow/tfjs-core';

/**
 * Rows `ids` of `table`. tf.gather's gradient needs UnsortedSegmentSum, which tfjs-backend-wasm
 * lacks, so the gradient is a scatter-add (ScatterNd sums repeated ids) — same values.
 */
export function embed(table: tf.Tensor2D, ids: tf.Tensor1D): tf.Tensor2D {
  const op = tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
    const t = args[0] as tf.Tensor2D;
    // Saved: the caller's tidy may dispose `ids` before the backward pass runs.
    (args[1] as tf.GradSaveFunc)([ids]);
    return {
      value: tf.gather(t, ids),
      gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) =>
        tf.scatterND(tf.reshape(saved[0] as tf.Tensor, [-1, 1]), dy, t.shape),
    };
  });
  return op(table);
}

/**
 * x·wᵀ for a weight w stored [units, fanIn] (nn.Linear, a tied embedding [vocab, d]). The wasm
 * backend copies a transposed operand before the product (wasm-transposed-matmul.ts), which for
 * GPT-2's tied 50257×768 embedding is a 154 MB copy per forward. So transpose whichever side
 * moves fewer values: w (units·fanIn), or x and the result (rows·(fanIn + units)).
 */
export function matMulTransposedWeight(x: tf.Tensor2D, w: tf.Tensor2D): tf.Tensor2D {
  const [rows, fanIn] = x.shape;
  const units = w.shape[0];
  if (rows * (fanIn + units) >= units * fanIn) return tf.matMul(x, w, false, true);
  return tf.tidy(() => tf.transpose(tf.matMul(w, x, false, true))) as tf.Tensor2D;
}

/**
 * x·w for a weight w stored [fanIn, units] (GPT-2's Conv1D). tfjs-backend-wasm keeps a packed copy
 * of a matMul's right operand for as long as that tensor lives (XNNPACK's weight cache), so a
 * model whose weights are right operands holds every weight twice. With few rows (evaluation,
 * generation) or when `weightLeft` (any pass without weight gradients: calibration's 1024 rows)
 * the weight is made the LEFT operand instead — (wᵀ·xᵀ)ᵀ, with wᵀ a temporary — and nothing is
 * cached (the same values: the kernel sums the same products in the same order); with many rows
 * in training the plain product moves fewer values.
 */
export function matMulWeight(x: tf.Tensor2D, w: tf.Tensor2D, weightLeft = false): tf.Tensor2D {
  const [rows, fanIn] = x.shape;
  const units = w.shape[1];
  if (!weightLeft && rows * (fanIn + units) >= units * fanIn) return tf.matMul(x, w);
  return tf.tidy(() => tf.transpose(tf.matMul(w, x, true, true))) as tf.Tensor2D;
}

/** A score far below any real one: exp underflows to exactly 0, without ∞ (no ∞·0 = NaN). */
const masked = -1e9;

/** Additive causal mask [seq, seq]: 0 where key s ≤ query t, `masked` above the diagonal. */
export function causalMaskBias(seq: number): tf.Tensor2D {
  const bias = new Float32Array(seq * seq);
  for (let t = 0; t < seq; t++) for (let s = t + 1; s < seq; s++) bias[t * seq + s] = masked;
  return tf.tensor2d(bias, [seq, seq]);
}

/** [batch·seq, heads·headDim] → [batch, heads, seq, headDim]. */
export function splitHeads(
  x: tf.Tensor2D,
  batch: number,
  seq: number,
  heads: number,
  headDim: number,
): tf.Tensor4D {
  return tf.transpose(tf.reshape(x, [batch, seq, heads, headDim]), [0, 2, 1, 3]);
}

export interface AttentionShape {
  readonly batch: number;
  readonly seq: number;
  readonly heads: number;
  readonly kvHeads: number;
  readonly headDim: number;
  /** Multiplies q·kᵀ (1/√headDim). */
  readonly scale: number;
}

/**
 * softmax(q·kᵀ·scale + causal mask)·v for q [batch, heads, seq, hd] and k, v [batch, kvHeads, seq,
 * hd]; query head h uses kv head ⌊h / (heads/kvHeads)⌋ (transformers' repeat_kv). The query heads of
 * one kv head are stacked along the rows instead of copying k and v. Returns [batch·seq, heads·hd].
 */
export function causalAttention(
  q: tf.Tensor4D,
  k: tf.Tensor4D,
  v: tf.Tensor4D,
  s: AttentionShape,
  dropProbs: (p: tf.Tensor) => tf.Tensor = (p) => p,
): tf.Tensor2D {
  const { batch, seq, heads, kvHeads, headDim } = s;
  const rep = heads / kvHeads;
  const grouped = tf.reshape(q, [batch, kvHeads, rep * seq, headDim]);
  const scores = tf.mul(tf.matMul(grouped, k, false, true), s.scale);
  const bias = causalMaskBias(seq);
  const probs = tf.softmax(tf.add(tf.reshape(scores, [batch, kvHeads, rep, seq, seq]), bias));
  const context = tf.matMul(tf.reshape(dropProbs(probs), [batch, kvHeads, rep * seq, seq]), v);
  const perToken = tf.transpose(tf.reshape(context, [batch, heads, seq, headDim]), [0, 2, 1, 3]);
  return tf.reshape(perToken, [batch * seq, heads * headDim]);
}

/** (x − mean)/√(var + eps)·w + b over the last axis (biased variance, as torch). */
export function layerNorm(x: tf.Tensor2D, w: tf.Tensor, b: tf.Tensor, eps: number): tf.Tensor2D {
  const { mean, variance } = tf.moments(x, -1, true);
  return tf.add(tf.mul(tf.mul(tf.sub(x, mean), tf.rsqrt(tf.add(variance, eps))), w), b);
}

/** x·rsqrt(mean(x²) + eps)·w over the last axis (float32, as transformers' LlamaRMSNorm). */
export function rmsNorm(x: tf.Tensor2D, w: tf.Tensor, eps: number): tf.Tensor2D {
  return tf.mul(tf.mul(x, tf.rsqrt(tf.add(tf.mean(tf.square(x), -1, true), eps))), w);
}

const sqrt2OverPi = Math.sqrt(2 / Math.PI);

/** GPT-2's gelu_new: 0.5·x·(1 + tanh(√(2/π)·(x + 0.044715·x³))). */
export function geluNew(x: tf.Tensor2D): tf.Tensor2D {
  const inner = tf.mul(tf.add(x, tf.mul(tf.mul(tf.mul(x, x), x), 0.044715)), sqrt2OverPi);
  return tf.mul(tf.mul(x, 0.5), tf.add(tf.tanh(inner), 1));
}

/** x·sigmoid(x). */
export function silu(x: tf.Tensor2D): tf.Tensor2D {
  return tf.mul(x, tf.sigmoid(x));
}

/**
 * softmax(q·kᵀ·scale)·v for q, k, v [batch, heads, seq, headDim], every token attending to every
 * token (vision encoders: no mask). Returns [batch·seq, heads·headDim].
 */
export function fullAttention(
  q: tf.Tensor4D,
  k: tf.Tensor4D,
  v: tf.Tensor4D,
  scale: number,
  dropProbs: (p: tf.Tensor) => tf.Tensor = (p) => p,
): tf.Tensor2D {
  const [batch, heads, seq, headDim] = q.shape;
  const probs = tf.softmax(tf.mul(tf.matMul(q, k, false, true), scale));
  const context = tf.matMul(dropProbs(probs), v);
  return tf.reshape(tf.transpose(context, [0, 2, 1, 3]), [batch * seq, heads * headDim]);
}

/** The exact gelu (transformers' 'gelu'): 0.5·x·(1 + erf(x/√2)). */
export function gelu(x: tf.Tensor2D): tf.Tensor2D {
  return tf.mul(tf.mul(x, 0.5), tf.add(tf.erf(tf.mul(x, Math.SQRT1_2)), 1));
}
