// The curvature iCBS needs for one block of kernel entries: the mean gradient g (length n) and a
// Hessian approximation H (n × n row-major) of the batch-mean loss, both restricted to the block.
//   fisher         H = (m/N) GᵀG from the per-sample gradients G (N × n) — one matMul; m is the
//                  number of log-likelihood terms a sample's loss averages (Task.termsPerSample:
//                  1 for a classifier, seqLength − 1 for a causal LM)
//   gradient-mean  H = g gᵀ — rank one, cheap and crude
//   exact          the true Hessian by double backprop (one Hessian-vector product per column;
//                  Dense layers followed by piecewise-linear layers; for small blocks and tests)
import * as tf from '@tensorflow/tfjs-core';
import { ErrorCode, ScalpelError } from '../errors.js';
import type { Batch } from '../plugin-api/task.js';
import type { BlockGradients, GradientEngine } from './per-sample-gradients.js';
import { readTensor } from './read-tensor.js';

export type HessianKind = 'fisher' | 'exact' | 'gradient-mean';

export interface BlockCurvature {
  /** Mean loss gradient over the batch, restricted to the block. */
  readonly g: Float32Array;
  /** n × n row-major. */
  readonly H: Float32Array;
}

/** Mean of the rows of G. */
function rowMean(G: BlockGradients): Float32Array {
  const { samples: N, entries: n, data } = G;
  const acc = new Float64Array(n);
  for (let s = 0; s < N; s++)
    for (let b = 0; b < n; b++) acc[b] = (acc[b] as number) + (data[s * n + b] as number);
  return Float32Array.from(acc, (v) => v / N);
}

/**
 * Empirical Fisher: g = mean of the rows of G, H = m·GᵀG / N (G is N × n). A sample's loss that
 * is the mean of m log-likelihood terms (the tokens of a sequence) has a gradient covariance 1/m
 * of its Hessian (the information identity holds for the sum), hence the factor m.
 */
export function fisherCurvature(G: BlockGradients, termsPerSample = 1): BlockCurvature {
  const { samples: N, entries: n, data } = G;
  // Gᵀ built on the host: tfjs-wasm's matMul is fast only without transpose flags.
  const T = new Float32Array(n * N);
  for (let s = 0; s < N; s++) for (let b = 0; b < n; b++) T[b * N + s] = data[s * n + b] as number;
  const H = readTensor(() =>
    tf.div(tf.matMul(tf.tensor2d(T, [n, N]), tf.tensor2d(data, [N, n])), N / termsPerSample),
  );
  return { g: rowMean(G), H };
}

/** Rank-one g gᵀ with g the mean of the rows of G. */
export function gradientMeanCurvature(G: BlockGradients): BlockCurvature {
  const g = rowMean(G);
  const n = g.length;
  const H = new Float32Array(n * n);
  for (let i = 0; i < n; i++) {
    const gi = g[i] as number;
    for (let j = 0; j < n; j++) H[i * n + j] = gi * (g[j] as number);
  }
  return { g, H };
}

/**
 * The true Hessian of the batch-mean loss w.r.t. the block entries of an operator's weight, at the
 * current weights: the weight becomes W + scatter(β) and H = ∂²L/∂β² at β = 0, one double
 * backward pass per column.
 */
export function exactCurvature(
  engine: GradientEngine,
  batch: Batch,
  layer: string,
  block: Int32Array,
): BlockCurvature {
  const model = engine.model;
  const task = model.task;
  const reason =
    model.exactHessianUnsupported === undefined
      ? `model family '${model.family}' gives no exact second derivatives`
      : model.exactHessianUnsupported(layer);
  const twice = task.meanLossTwiceDifferentiable?.bind(task);
  if (reason !== undefined || twice === undefined) {
    throw new ScalpelError(
      ErrorCode.Stage,
      `hessian 'exact' is not available for layer '${layer}': ${reason ?? `task '${task.name}' has no twice-differentiable loss`}`,
      {
        layer,
        hint: 'exact supports Dense layers followed by relu/linear layers (softmax head allowed); use hessian: fisher (the default)',
      },
    );
  }
  const info = model.operators.find((o) => o.name === layer);
  if (info === undefined)
    throw new ScalpelError(ErrorCode.Internal, `layer '${layer}' is not a prunable operator`, {
      layer,
    });
  const n = block.length;
  const inDim = info.fanIn;
  const outDim = info.units;
  const kernel = tf.tensor2d(model.readWeight(layer), [inDim, outDim]);
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
      const logits = model.forward(batch.inputs, {
        weights: new Map([[layer, W]]),
        logits: true,
      }).output;
      return twice(logits, batch);
    };
    const gradF = tf.grad(loss);
    const beta0 = tf.zeros([n]);
    try {
      const g = readTensor(() => gradF(beta0));
      const H = new Float32Array(n * n);
      for (let b = 0; b < n; b++) {
        // Row b of the (symmetric) Hessian: ∂/∂β of (∂L/∂β)_b.
        const row = readTensor(() => {
          const unit = tf.reshape(tf.oneHot(tf.tensor1d([b], 'int32'), n), [n]);
          return tf.grad((beta: tf.Tensor) => tf.sum<tf.Scalar>(tf.mul(gradF(beta), unit)))(beta0);
        });
        H.set(row, b * n);
      }
      return { g, H };
    } finally {
      beta0.dispose();
    }
  } finally {
    tf.dispose([At, Bt, kernel]);
  }
}
