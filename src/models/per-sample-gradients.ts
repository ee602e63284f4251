// Per-sample loss gradients restricted to a few weight entries (the rows of iCBS's G, N × n).
//
// Operators that are linear in their input matrix (Dense, Conv via im2col: PrunableModel
// .isLinearInInput) use the outer-product rule: with X_s the rows of the operator's input matrix
// that belong to sample s and e_s = ∂L_s/∂z_s the gradient of sample s's own loss w.r.t. the
// pre-activation output rows, ∂L_s/∂W[i,o] = Σ_rows X[r,i]·e[r,o]. One forward pass that records
// every X, with a zero ε added to every hooked z, and ONE tf.grads of Σ_s L_s w.r.t. all the ε at
// once gives every e_s (ε_s only reaches L_s). Only the block's columns of G are ever formed.
// Other operators fall back to one backward pass per sample through a replaced weight — correct,
// just slower.
import * as tf from '@tensorflow/tfjs-core';
import { ErrorCode, ScalpelError } from '../errors.js';
import type { PrunableModel } from '../plugin-api/model.js';
import type { Batch } from '../plugin-api/task.js';
import { readTensor } from './read-tensor.js';

/** Per-sample gradients of the block entries: G (N × n), row-major float32. */
export interface BlockGradients {
  /** N */
  readonly samples: number;
  /** n */
  readonly entries: number;
  /** G[s·n + b] = ∂L_s/∂W[block[b]]. */
  readonly data: Float32Array;
}

/** Gradient information of one layer for one batch. Dispose when done. */
export interface LayerBatchGradients {
  readonly layer: string;
  /** 'outer' = outer-product rule; 'per-sample' = one backward pass per sample. */
  readonly method: 'outer' | 'per-sample';
  /** Number of samples N. */
  readonly samples: number;
  /** G for the flat kernel indices `block`. */
  blockGradients(block: Int32Array): BlockGradients;
  /** ∂(mean_s L_s)/∂W over the whole kernel, flat [fanIn·units] (gradient selection scores). */
  meanGradient(): Float32Array;
  dispose(): void;
}

/** Outer-product gradients of one linear operator: rows a [R, fanIn] and e [R, units], R = N·P. */
export class OuterGradients implements LayerBatchGradients {
  readonly method = 'outer';
  private host: { a: Float32Array; e: Float32Array } | undefined;
  constructor(
    readonly layer: string,
    readonly samples: number,
    private readonly a: tf.Tensor2D,
    private readonly e: tf.Tensor2D,
  ) {}

  /** The row matrices a and e on the host (row-major; read once, shared with blockGradients). */
  matrices(): { a: Float32Array; e: Float32Array; fanIn: number; units: number } {
    this.host ??= { a: this.a.dataSync() as Float32Array, e: this.e.dataSync() as Float32Array };
    return { ...this.host, fanIn: this.a.shape[1], units: this.e.shape[1] };
  }

  /** G for `block`; `out` (samples × block.length) receives it when given (shared memory). */
  blockGradients(block: Int32Array, out?: Float32Array): BlockGradients {
    // Formed on the host: N·P·n products, far cheaper than any tensor gather (and no transposes,
    // which the wasm matMul handles slowly).
    this.host ??= { a: this.a.dataSync() as Float32Array, e: this.e.dataSync() as Float32Array };
    const { a, e } = this.host;
    const inDim = this.a.shape[1];
    const units = this.e.shape[1];
    const positions = this.a.shape[0] / this.samples;
    const n = block.length;
    const G = out ?? new Float32Array(this.samples * n);
    for (let b = 0; b < n; b++) {
      const j = block[b] as number;
      const i = Math.floor(j / units);
      const o = j - i * units;
      for (let s = 0; s < this.samples; s++) {
        let v = 0;
        for (let t = 0; t < positions; t++) {
          const r = s * positions + t;
          v += (a[r * inDim + i] as number) * (e[r * units + o] as number);
        }
        G[s * n + b] = v;
      }
    }
    return { samples: this.samples, entries: n, data: G };
  }

  meanGradient(): Float32Array {
    // aᵀe / N with an explicit transpose: tfjs-wasm's matMul is slow with transposeA.
    return readTensor(() => tf.div(tf.matMul(tf.transpose(this.a), this.e), this.samples));
  }

  dispose(): void {
    this.a.dispose();
    this.e.dispose();
  }
}

/** Fallback: one backward pass per sample w.r.t. the operator's weight (replaced by a tensor). */
class PerSampleGradients implements LayerBatchGradients {
  readonly method = 'per-sample';
  readonly samples: number;
  constructor(
    readonly layer: string,
    private readonly engine: GradientEngine,
    private readonly batch: Batch,
  ) {
    this.samples = batch.count;
  }

  /** ∂(Σ loss of `batch`)/∂W as [fanIn·units], W the current weight. */
  private gradient(batch: Batch, scale: number): Float32Array {
    const model = this.engine.model;
    const info = model.operators.find((o) => o.name === this.layer);
    const fanIn = info?.fanIn ?? 0;
    const units = info?.units ?? 0;
    const W0 = tf.tensor2d(model.readWeight(this.layer), [fanIn, units]);
    try {
      return readTensor(() =>
        tf.grad((W: tf.Tensor) => {
          const out = model.forward(batch.inputs, { weights: new Map([[this.layer, W]]) }).output;
          return tf.mul<tf.Scalar>(tf.sum(model.task.perSampleLoss(out, batch)), scale);
        })(W0),
      );
    } finally {
      W0.dispose();
    }
  }

  blockGradients(block: Int32Array): BlockGradients {
    const n = block.length;
    const G = new Float32Array(this.samples * n);
    for (let s = 0; s < this.samples; s++) {
      const one: Batch = {
        count: 1,
        inputs: tf.slice(this.batch.inputs, s, 1),
        targets: tf.slice(this.batch.targets, s, 1),
      };
      try {
        const full = this.gradient(one, 1);
        for (let b = 0; b < n; b++) G[s * n + b] = full[block[b] as number] as number;
      } finally {
        tf.dispose([one.inputs, one.targets]);
      }
    }
    return { samples: this.samples, entries: n, data: G };
  }

  meanGradient(): Float32Array {
    return this.gradient(this.batch, 1 / this.samples);
  }

  dispose(): void {}
}

/** Computes per-layer batch gradients for a model (build once per model). */
export class GradientEngine {
  constructor(readonly model: PrunableModel) {}

  /** Model outputs with the current weights. */
  forward(x: tf.Tensor): tf.Tensor {
    return this.model.forward(x).output;
  }

  /** Whether `layer` gets the outer-product rule (an operator linear in its input matrix). */
  usesOuterProduct(layer: string): boolean {
    return this.model.isLinearInInput(layer);
  }

  /**
   * Gradients of every named layer for one batch: one forward and one backward pass for all
   * outer-product layers together; fallback layers are computed lazily when asked.
   */
  compute(batch: Batch, layers: readonly string[]): Map<string, LayerBatchGradients> {
    const out = new Map<string, LayerBatchGradients>();
    const outer = layers.filter((l) => this.usesOuterProduct(l));
    if (outer.length > 0) {
      const model = this.model;
      const samples = batch.count;
      const record = new Set(outer);
      const kept = new Map<string, tf.Tensor>();
      const { a, e } = tf.tidy(() => {
        const epsilons = outer.map((name) => tf.zeros(model.perturbationShape(name, batch.inputs)));
        const f = (...eps: tf.Tensor[]): tf.Scalar => {
          const perturb = new Map(outer.map((name, i) => [name, eps[i] as tf.Tensor]));
          const run = model.forward(batch.inputs, {
            perturb,
            recordInputs: record,
            inputGradientsOnly: true,
          });
          // tf.grads disposes the forward's intermediates; keep the input matrices (disposed below).
          for (const [k, v] of run.inputs) kept.set(k, tf.keep(v));
          return tf.sum<tf.Scalar>(model.task.perSampleLoss(run.output, batch));
        };
        const grads = tf.grads(f)(epsilons);
        const a: tf.Tensor2D[] = [];
        const e: tf.Tensor2D[] = [];
        outer.forEach((name, i) => {
          const input = kept.get(name);
          if (input === undefined) {
            throw new ScalpelError(
              ErrorCode.Internal,
              `layer '${name}' is not on the model's path: its forward recorded no input for it`,
              { layer: name, hint: "a bug in the model's family (or plugin): report it" },
            );
          }
          // A fresh handle: the recorded matrix may be the batch's own input tensor.
          a.push(tf.reshape<tf.Rank.R2>(input, [-1, input.shape[1] ?? 0]));
          e.push(grads[i] as tf.Tensor2D);
        });
        return { a, e };
      });
      for (const t of kept.values()) if (t !== batch.inputs) t.dispose();
      outer.forEach((name, i) => {
        out.set(name, new OuterGradients(name, samples, a[i] as tf.Tensor2D, e[i] as tf.Tensor2D));
      });
    }
    for (const name of layers) {
      if (out.has(name)) continue;
      out.set(name, new PerSampleGradients(name, this, batch));
    }
    return out;
  }
}
