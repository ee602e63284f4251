// The curvature iCBS needs for one block of kernel entries: the mean gradient g (length n) and a
// Hessian approximation H (n × n row-major) of the batch-mean loss, both restricted to the block.
//   fisher         H = (1/N) GᵀG from the per-sample gradients G (N × n) — one matMul
//   gradient-mean  H = g gᵀ — rank one, cheap and crude
//   exact          the true Hessian by double backprop (one Hessian-vector product per column;
//                  Dense layers of chain models only; for small blocks and tests)
import * as tf from '@tensorflow/tfjs-core';
import { ErrorCode, ScalpelError } from '../errors.js';
import type { GradientEngine, TensorBatch } from './per-sample-gradients.js';
import { meanCrossEntropyTwice } from './twice-differentiable.js';

export type HessianKind = 'fisher' | 'exact' | 'gradient-mean';

export interface BlockCurvature {
  /** Mean loss gradient over the batch, restricted to the block. */
  readonly g: Float32Array;
  /** n × n row-major. */
  readonly H: Float32Array;
}

/** Empirical Fisher: g = mean of the rows of G, H = GᵀG / N (G is N × n). */
export function fisherCurvature(G: tf.Tensor2D): BlockCurvature {
  const N = G.shape[0];
  return tf.tidy(() => {
    const H = tf.div(tf.matMul(G, G, true, false), N);
    const g = tf.mean(G, 0);
    return { g: g.dataSync() as Float32Array, H: H.dataSync() as Float32Array };
  });
}

/** Rank-one g gᵀ with g the mean of the rows of G. */
export function gradientMeanCurvature(G: tf.Tensor2D): BlockCurvature {
  const g = tf.tidy(() => tf.mean(G, 0).dataSync() as Float32Array);
  const n = g.length;
  const H = new Float32Array(n * n);
  for (let i = 0; i < n; i++) {
    const gi = g[i] as number;
    for (let j = 0; j < n; j++) H[i * n + j] = gi * (g[j] as number);
  }
  return { g, H };
}

/**
 * The true Hessian of the batch-mean loss w.r.t. the block entries of a Dense kernel, at the
 * current weights: the kernel becomes W + scatter(β) and H = ∂²L/∂β² at β = 0, one double
 * backward pass per column.
 */
export function exactCurvature(
  engine: GradientEngine,
  batch: TensorBatch,
  layer: string,
  block: Int32Array,
): BlockCurvature {
  const chain = engine.chain;
  const reason =
    chain === undefined
      ? 'the model is not a single chain of layers'
      : chain.exactUnsupportedReason(layer);
  if (chain === undefined || reason !== undefined) {
    throw new ScalpelError(
      ErrorCode.Stage,
      `hessian 'exact' is not available for layer '${layer}': ${reason ?? ''}`,
      {
        layer,
        hint: 'exact supports Dense layers followed by relu/linear layers (softmax head allowed); use hessian: fisher (the default)',
      },
    );
  }
  const n = block.length;
  const kernel = engine
    .layerByName(layer)
    .weights.find((w) => /kernel/.test(w.originalName))
    ?.read();
  if (kernel === undefined)
    throw new ScalpelError(ErrorCode.Internal, `layer '${layer}' has no kernel`, { layer });
  const [inDim = 0, outDim = 0] = kernel.shape;
  // The kernel becomes W + A·diag(β)·B with A[i,b] = [i = row of entry b], B[b,o] = [o = column
  // of entry b]: small one-hot factors, twice differentiable (wasm has no scatter gradient).
  const A = new Float32Array(inDim * n);
  const B = new Float32Array(n * outDim);
  block.forEach((j, b) => {
    const i = Math.floor(j / outDim);
    A[i * n + b] = 1;
    B[b * outDim + (j - i * outDim)] = 1;
  });
  const At = tf.tensor2d(A, [inDim, n]);
  const Bt = tf.tensor2d(B, [n, outDim]);
  try {
    const loss = (beta: tf.Tensor): tf.Scalar => {
      const W = tf.add(kernel, tf.matMul(tf.mul(At, tf.reshape(beta, [1, n])), Bt));
      const logits = chain.run(batch.x, {
        kernels: new Map([[layer, W]]),
        headLogits: true,
      }).output;
      return meanCrossEntropyTwice(logits, batch.labels);
    };
    const gradF = tf.grad(loss);
    return tf.tidy(() => {
      const beta0 = tf.zeros([n]);
      const g = gradF(beta0).dataSync() as Float32Array;
      const H = new Float32Array(n * n);
      for (let b = 0; b < n; b++) {
        const unit = tf.reshape(tf.oneHot(tf.tensor1d([b], 'int32'), n), [n]);
        const column = tf.grad((beta: tf.Tensor) => tf.sum(tf.mul(gradF(beta), unit)) as tf.Scalar)(
          beta0,
        );
        H.set(column.dataSync(), b * n); // row b of a symmetric matrix
        tf.dispose([unit, column]);
      }
      return { g, H };
    });
  } finally {
    tf.dispose([At, Bt]);
  }
}

/** Curvature of the kind asked for. `G` (N × n per-sample gradients) is needed for fisher and gradient-mean. */
export function blockCurvature(
  kind: HessianKind,
  G: () => tf.Tensor2D,
  exact: () => BlockCurvature,
): BlockCurvature {
  if (kind === 'exact') return exact();
  const g = G();
  try {
    return kind === 'fisher' ? fisherCurvature(g) : gradientMeanCurvature(g);
  } finally {
    g.dispose();
  }
}
