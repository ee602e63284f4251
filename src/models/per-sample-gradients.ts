// Per-sample loss gradients restricted to a few kernel entries (the rows of iCBS's G, N × n).
//
// Dense layers of a chain model use the outer-product rule: with a_s the layer input and
// e_s = ∂L_s/∂z_s the gradient of sample s's own loss w.r.t. the pre-activation output,
// ∂L_s/∂W[i,o] = Σ_t a_{s,t}[i]·e_{s,t}[o] (t over positions for rank > 2 inputs). One forward pass
// that keeps every a, with a zero tensor ε added to every hooked z, and ONE tf.grads of Σ_s L_s
// w.r.t. all the ε at once gives every e_s (ε_s only reaches L_s). Only the block's columns of G
// are ever formed. Every other layer kind (or any layer of a non-chain model) falls back to one
// backward pass per sample on the kernel variable — correct, just slower.
import * as tf from '@tensorflow/tfjs-core';
import type * as tfl from '@tensorflow/tfjs-layers';
import { ChainForward } from './functional-forward.js';
import { type OutputKind, outputKindOf, perSampleLoss } from './loss.js';

type Layer = tfl.LayersModel['layers'][number];

/** A batch as tensors: inputs in the model's input shape and int32 class labels. */
export interface TensorBatch {
  readonly x: tf.Tensor;
  readonly labels: tf.Tensor1D;
}

/** Gradient information of one layer for one batch. Dispose when done. */
export interface LayerBatchGradients {
  readonly layer: string;
  /** 'outer' = outer-product rule; 'per-sample' = one backward pass per sample. */
  readonly method: 'outer' | 'per-sample';
  /** Number of samples N. */
  readonly samples: number;
  /** G [N, n]: G[s, b] = ∂L_s/∂W[block[b]] (flat kernel index). The caller disposes it. */
  blockGradients(block: Int32Array): tf.Tensor2D;
  /** ∂(mean_s L_s)/∂W over the whole kernel, flat [fanIn·units] (gradient selection scores). */
  meanGradient(): Float32Array;
  dispose(): void;
}

function kernelVariable(layer: Layer): tf.Variable {
  const v = layer.weights.find((w) => /kernel/.test(w.originalName));
  if (v === undefined) throw new Error(`layer '${layer.name}' has no kernel`);
  return v.read() as tf.Variable;
}

/** Outer-product gradients of one Dense layer: rows a [R, in] and e [R, out], R = N·P. */
class OuterGradients implements LayerBatchGradients {
  readonly method = 'outer';
  constructor(
    readonly layer: string,
    readonly samples: number,
    private readonly a: tf.Tensor2D,
    private readonly e: tf.Tensor2D,
  ) {}

  blockGradients(block: Int32Array): tf.Tensor2D {
    const units = this.e.shape[1];
    const rows = this.a.shape[0];
    const positions = rows / this.samples;
    const inIdx = new Int32Array(block.length);
    const outIdx = new Int32Array(block.length);
    for (let b = 0; b < block.length; b++) {
      const j = block[b] as number;
      inIdx[b] = Math.floor(j / units);
      outIdx[b] = j - (inIdx[b] as number) * units;
    }
    return tf.tidy(() => {
      const cols = tf.mul(tf.gather(this.a, inIdx, 1), tf.gather(this.e, outIdx, 1)) as tf.Tensor2D;
      if (positions === 1) return cols;
      return tf.sum(tf.reshape(cols, [this.samples, positions, block.length]), 1) as tf.Tensor2D;
    });
  }

  meanGradient(): Float32Array {
    return tf.tidy(() => {
      const g = tf.div(tf.matMul(this.a, this.e, true, false), this.samples);
      return g.dataSync() as Float32Array;
    });
  }

  dispose(): void {
    this.a.dispose();
    this.e.dispose();
  }
}

/** Fallback: one backward pass per sample w.r.t. the kernel variable. */
class PerSampleGradients implements LayerBatchGradients {
  readonly method = 'per-sample';
  readonly samples: number;
  constructor(
    readonly layer: string,
    private readonly kernel: tf.Variable,
    private readonly batch: TensorBatch,
    private readonly lossOf: (x: tf.Tensor, labels: tf.Tensor1D) => tf.Scalar,
  ) {
    this.samples = batch.labels.shape[0];
  }

  blockGradients(block: Int32Array): tf.Tensor2D {
    const idx = tf.tensor1d(block, 'int32');
    const rows: tf.Tensor[] = [];
    try {
      for (let s = 0; s < this.samples; s++) {
        rows.push(
          tf.tidy(() => {
            const xs = tf.slice(this.batch.x, s, 1);
            const ls = tf.slice(this.batch.labels, s, 1);
            const { grads } = tf.variableGrads(() => this.lossOf(xs, ls), [this.kernel]);
            const gk = grads[this.kernel.name];
            if (gk === undefined) throw new Error(`no gradient for the kernel of '${this.layer}'`);
            return tf.gather(tf.reshape(gk, [-1]), idx);
          }),
        );
      }
      return tf.stack(rows) as tf.Tensor2D;
    } finally {
      idx.dispose();
      for (const r of rows) r.dispose();
    }
  }

  meanGradient(): Float32Array {
    return tf.tidy(() => {
      const { grads } = tf.variableGrads(
        () => tf.div(this.lossOf(this.batch.x, this.batch.labels), this.samples) as tf.Scalar,
        [this.kernel],
      );
      const gk = grads[this.kernel.name];
      if (gk === undefined) throw new Error(`no gradient for the kernel of '${this.layer}'`);
      return Float32Array.from(gk.dataSync() as Float32Array);
    });
  }

  dispose(): void {}
}

/** Computes per-layer batch gradients for a model (build once per model). */
export class GradientEngine {
  readonly chain: ChainForward | undefined;
  readonly outputKind: OutputKind;

  constructor(readonly model: tfl.LayersModel) {
    this.chain = ChainForward.of(model);
    this.outputKind = outputKindOf(model);
  }

  /** Model outputs with the current weights (the chain forward, else model.apply). */
  forward(x: tf.Tensor): tf.Tensor {
    return this.chain !== undefined
      ? this.chain.run(x).output
      : (this.model.apply(x, { training: false }) as tf.Tensor);
  }

  /** Σ_s L_s over the batch (a scalar; call inside tf.tidy / a gradient function). */
  private summedLoss(x: tf.Tensor, labels: tf.Tensor1D): tf.Scalar {
    return tf.sum(perSampleLoss(this.forward(x), labels, this.outputKind)) as tf.Scalar;
  }

  /** Whether `layer` gets the outer-product rule (a Dense layer of a chain model). */
  usesOuterProduct(layer: string): boolean {
    return this.chain?.isDense(layer) === true;
  }

  /**
   * Gradients of every named layer for one batch: one forward and one backward pass for all
   * outer-product layers together; fallback layers are computed lazily when asked.
   */
  compute(batch: TensorBatch, layers: readonly string[]): Map<string, LayerBatchGradients> {
    const out = new Map<string, LayerBatchGradients>();
    const outer = layers.filter((l) => this.usesOuterProduct(l));
    if (outer.length > 0 && this.chain !== undefined) {
      const chain = this.chain;
      const samples = batch.labels.shape[0];
      const record = new Set(outer);
      const kept = new Map<string, tf.Tensor>();
      const { a, e } = tf.tidy(() => {
        const epsilons = outer.map((name) => tf.zeros(this.preActivationShape(name, batch.x)));
        const f = (...eps: tf.Tensor[]): tf.Scalar => {
          const perturb = new Map(outer.map((name, i) => [name, eps[i] as tf.Tensor]));
          const run = chain.run(batch.x, { perturb, recordInputs: record });
          // tf.grads disposes the forward's intermediates; keep the layer inputs (disposed below).
          for (const [k, v] of run.inputs) kept.set(k, tf.keep(v));
          return tf.sum(perSampleLoss(run.output, batch.labels, this.outputKind)) as tf.Scalar;
        };
        const grads = tf.grads(f)(epsilons);
        const a: tf.Tensor2D[] = [];
        const e: tf.Tensor2D[] = [];
        outer.forEach((name, i) => {
          const input = kept.get(name);
          if (input === undefined) throw new Error(`layer '${name}' is not on the chain`);
          const g = grads[i] as tf.Tensor;
          a.push(tf.reshape(input, [-1, input.shape[input.rank - 1] ?? 0]) as tf.Tensor2D);
          e.push(tf.reshape(g, [-1, g.shape[g.rank - 1] ?? 0]) as tf.Tensor2D);
        });
        return { a, e };
      });
      for (const t of kept.values()) if (t !== batch.x) t.dispose();
      outer.forEach((name, i) => {
        out.set(name, new OuterGradients(name, samples, a[i] as tf.Tensor2D, e[i] as tf.Tensor2D));
      });
    }
    for (const name of layers) {
      if (out.has(name)) continue;
      out.set(
        name,
        new PerSampleGradients(name, kernelVariable(this.layerByName(name)), batch, (x, l) =>
          this.summedLoss(x, l),
        ),
      );
    }
    return out;
  }

  layerByName(name: string): Layer {
    const layer = this.model.layers.find((l) => l.name === name);
    if (layer === undefined) throw new Error(`the model has no layer '${name}'`);
    return layer;
  }

  /** Shape of the Dense layer's pre-activation output z for input `x`. */
  private preActivationShape(name: string, x: tf.Tensor): number[] {
    const shape = this.layerByName(name).outputShape;
    if (!Array.isArray(shape) || Array.isArray(shape[0]))
      throw new Error(`layer '${name}' has several outputs`);
    const dims = shape as (number | null)[];
    if (dims.slice(1).some((d) => d === null)) {
      throw new Error(
        `layer '${name}' has an output shape with unknown dimensions (${JSON.stringify(dims)})`,
      );
    }
    return [x.shape[0] ?? 0, ...(dims.slice(1) as number[])];
  }

  kernelShape(name: string): number[] {
    return kernelVariable(this.layerByName(name)).shape;
  }
}
