// Gradient clipping by global L2 norm (as torch.nn.utils.clip_grad_norm_): when
// ‖g‖ = √(Σ over all tensors of Σ g²) exceeds maxNorm, every gradient is scaled by maxNorm/‖g‖,
// keeping the update's direction. LM training relies on it to survive loss spikes.
import * as tf from '@tensorflow/tfjs-core';

export interface ClippedGradients {
  readonly grads: tf.NamedTensorMap;
  /** Global norm before clipping (for logging). */
  readonly norm: number;
  readonly clipped: boolean;
}

/** The entries that hold a tensor (tf.variableGrads maps non-trainable variables to null). */
function present(grads: tf.NamedTensorMap): [string, tf.Tensor][] {
  return Object.entries(grads).filter(
    (e): e is [string, tf.Tensor] => (e[1] as tf.Tensor | null) !== null,
  );
}

/** √(Σ‖g_i‖²): each tensor's sum of squares in float32, their total in float64. */
export function globalNorm(grads: tf.NamedTensorMap): number {
  const tensors = present(grads).map(([, g]) => g);
  if (tensors.length === 0) return 0;
  const sums = tf.tidy(() => tf.stack(tensors.map((g) => tf.sum(tf.square(g)))));
  const values = sums.dataSync();
  sums.dispose();
  let total = 0;
  for (const v of values) total += v;
  return Math.sqrt(total);
}

/**
 * Consumes `grads`: below the threshold they come back unchanged (the same tensors); above it,
 * they are disposed and scaled copies returned. A non-finite norm is returned as is, unclipped,
 * for the caller to report.
 */
export function clipByGlobalNorm(grads: tf.NamedTensorMap, maxNorm: number): ClippedGradients {
  if (!(maxNorm > 0)) throw new RangeError(`clipByGlobalNorm: maxNorm must be > 0, got ${maxNorm}`);
  const norm = globalNorm(grads);
  if (!(norm > maxNorm) || !Number.isFinite(norm)) return { grads, norm, clipped: false };
  const scale = maxNorm / norm;
  const out: tf.NamedTensorMap = {};
  for (const [name, g] of present(grads)) {
    out[name] = tf.mul(g, scale);
    g.dispose();
  }
  return { grads: out, norm, clipped: true };
}
