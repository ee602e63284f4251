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
import { readTensor } from './read-tensor.js';
import { type OutputKind, outputKindOf, perSampleLoss } from './loss.js';

type Layer = tfl.LayersModel['layers'][number];

/** A batch as tensors: inputs in the model's input shape and int32 class labels. */
export interface TensorBatch {
  readonly x: tf.Tensor;
  readonly labels: tf.Tensor1D;
}

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

function kernelVariable(layer: Layer): tf.Variable {
  const v = layer.weights.find((w) => /kernel/.test(w.originalName));
  if (v === undefined) throw new Error(`layer '${layer.name}' has no kernel`);
  return v.read() as tf.Variable;
}

/** Outer-product gradients of one Dense layer: rows a [R, in] and e [R, out], R = N·P. */
class OuterGradients implements LayerBatchGradients {
  readonly method = 'outer';
  private host: { a: Float32Array; e: Float32Array } | undefined;
  constructor(
    readonly layer: string,
    readonly samples: number,
    private readonly a: tf.Tensor2D,
    private readonly e: tf.Tensor2D,
  ) {}

  blockGradients(block: Int32Array): BlockGradients {
    // Formed on the host: N·P·n products, far cheaper than any tensor gather (and no transposes,
    // which the wasm matMul handles slowly).
    this.host ??= { a: this.a.dataSync() as Float32Array, e: this.e.dataSync() as Float32Array };
    const { a, e } = this.host;
    const inDim = this.a.shape[1];
    const units = this.e.shape[1];
    const positions = this.a.shape[0] / this.samples;
    const n = block.length;
    const G = new Float32Array(this.samples * n);
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

  blockGradients(block: Int32Array): BlockGradients {
    const n = block.length;
    const G = new Float32Array(this.samples * n);
    for (let s = 0; s < this.samples; s++) {
      const full = readTensor(() => {
        const xs = tf.slice(this.batch.x, s, 1);
        const ls = tf.slice(this.batch.labels, s, 1);
        const { grads } = tf.variableGrads(() => this.lossOf(xs, ls), [this.kernel]);
        const gk = grads[this.kernel.name];
        if (gk === undefined) throw new Error(`no gradient for the kernel of '${this.layer}'`);
        return gk;
      });
      for (let b = 0; b < n; b++) G[s * n + b] = full[block[b] as number] as number;
    }
    return { samples: this.samples, entries: n, data: G };
  }

  meanGradient(): Float32Array {
    return readTensor(() => {
      const { grads } = tf.variableGrads(
        () => tf.div(this.lossOf(this.batch.x, this.batch.labels), this.samples) as tf.Scalar,
        [this.kernel],
      );
      const gk = grads[this.kernel.name];
      if (gk === undefined) throw new Error(`no gradient for the kernel of '${this.layer}'`);
      return gk;
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
          const run = chain.run(batch.x, {
            perturb,
            recordInputs: record,
            inputGradientsOnly: true,
          });
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
