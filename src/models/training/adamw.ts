// AdamW (Loshchilov & Hutter, "Decoupled Weight Decay Regularization"): Adam moments with bias
// correction, and weight decay applied to the weights directly rather than through the gradient:
//   m ← β1·m + (1−β1)·g,  v ← β2·v + (1−β2)·g²,  m̂ = m/(1−β1ᵗ),  v̂ = v/(1−β2ᵗ)
//   θ ← θ − lr·(m̂/(√v̂ + ε) + wd·θ)          (wd only on the variables the caller marks)
// Our own class rather than tf.train.adam so that its state can be checkpointed and restored
// exactly, the learning rate can change every step, and decay can skip biases and norm gains.
// With weightDecay 0 it is plain Adam (`adam` below).
import * as tf from '@tensorflow/tfjs-core';
import { ErrorCode, ScalpelError } from '../../errors.js';

export interface AdamWOptions {
  /** Default 0.9. */
  readonly beta1?: number;
  /** Default 0.999. */
  readonly beta2?: number;
  /** Added to √v̂. Default 1e-8. */
  readonly epsilon?: number;
  /** Decoupled weight decay (multiplied by the learning rate). Default 0. */
  readonly weightDecay?: number;
  /**
   * Which variables weight decay applies to. Default `decayWeightMatrices`: LMs decay weight
   * matrices and embeddings but not biases or norm gains.
   */
  readonly decays?: (variable: tf.Variable, index: number) => boolean;
}

/** The optimizer's state as plain arrays (one entry per variable, in `variables` order). */
export interface AdamWState {
  /** Updates applied so far (t of the bias correction). */
  readonly step: number;
  readonly m: readonly Float32Array[];
  readonly v: readonly Float32Array[];
}

/** Variables of rank ≥ 2 (kernels, embeddings) decay; vectors (biases, norm weights) do not. */
export function decayWeightMatrices(variable: tf.Variable): boolean {
  return variable.rank >= 2;
}

export class AdamW {
  readonly variables: readonly tf.Variable[];
  readonly beta1: number;
  readonly beta2: number;
  readonly epsilon: number;
  readonly weightDecay: number;
  /** Per variable: whether weight decay applies to it. */
  readonly decayed: readonly boolean[];
  private readonly m: tf.Variable[];
  private readonly v: tf.Variable[];
  // A JS integer, not a tensor: the bias corrections 1−βᵗ are computed from it in float64.
  private t = 0;

  constructor(variables: readonly tf.Variable[], options: AdamWOptions = {}) {
    this.beta1 = options.beta1 ?? 0.9;
    this.beta2 = options.beta2 ?? 0.999;
    this.epsilon = options.epsilon ?? 1e-8;
    this.weightDecay = options.weightDecay ?? 0;
    const inUnit = (b: number): boolean => b >= 0 && b < 1;
    if (
      !inUnit(this.beta1) ||
      !inUnit(this.beta2) ||
      !(this.epsilon > 0) ||
      !(this.weightDecay >= 0)
    ) {
      throw new ScalpelError(
        ErrorCode.Stage,
        `AdamW: β1 ${this.beta1} and β2 ${this.beta2} must lie in [0, 1), ε ${this.epsilon} must be > 0, weight decay ${this.weightDecay} ≥ 0`,
        { hint: 'fix the optimizer settings' },
      );
    }
    const names = new Set(variables.map((x) => x.name));
    if (names.size !== variables.length) {
      throw new ScalpelError(ErrorCode.Internal, 'AdamW: the variable list names a variable twice');
    }
    this.variables = [...variables];
    const decays = options.decays ?? decayWeightMatrices;
    this.decayed = this.variables.map((x, i) => this.weightDecay > 0 && decays(x, i));
    const zeros = (x: tf.Variable): tf.Variable =>
      tf.tidy(() => tf.variable(tf.zerosLike(x), false));
    this.m = this.variables.map(zeros);
    this.v = this.variables.map(zeros);
  }

  /** Updates applied so far. */
  get step(): number {
    return this.t;
  }

  /**
   * One update with learning rate `learningRate`, gradients by variable name (tf.variableGrads'
   * `grads`). A variable without a gradient is left alone (moments and decay alike). The caller
   * keeps and disposes `grads`.
   */
  update(grads: tf.NamedTensorMap, learningRate: number): void {
    this.t++;
    const bc1 = 1 - this.beta1 ** this.t;
    const bc2 = 1 - this.beta2 ** this.t;
    this.variables.forEach((theta, i) => {
      // tf.variableGrads omits variables the loss does not reach, and maps non-trainable ones to null.
      const g = grads[theta.name] as tf.Tensor | null | undefined;
      if (g === undefined || g === null) return;
      if (!tf.util.arraysEqual(g.shape, theta.shape)) {
        throw new ScalpelError(
          ErrorCode.Internal,
          `AdamW: the gradient of '${theta.name}' has shape [${g.shape.join(', ')}], the variable [${theta.shape.join(', ')}]`,
        );
      }
      const m = this.m[i] as tf.Variable;
      const v = this.v[i] as tf.Variable;
      tf.tidy(() => {
        m.assign(tf.add(tf.mul(m, this.beta1), tf.mul(g, 1 - this.beta1)));
        v.assign(tf.add(tf.mul(v, this.beta2), tf.mul(tf.square(g), 1 - this.beta2)));
        const mHat = tf.div(m, bc1);
        const vHat = tf.div(v, bc2);
        let direction = tf.div(mHat, tf.add(tf.sqrt(vHat), this.epsilon));
        if (this.decayed[i] === true)
          direction = tf.add(direction, tf.mul(theta, this.weightDecay));
        theta.assign(tf.sub(theta, tf.mul(direction, learningRate)));
      });
    });
  }

  /** A copy of the state (for checkpoints). */
  readState(): AdamWState {
    const copy = (x: tf.Variable): Float32Array => Float32Array.from(x.dataSync() as Float32Array);
    return { step: this.t, m: this.m.map(copy), v: this.v.map(copy) };
  }

  /** Continue from a state `readState` gave (of an optimizer over variables of the same shapes). */
  writeState(state: AdamWState): void {
    const sizes = this.variables.map((x) => x.size);
    const fits = (a: readonly Float32Array[]): boolean =>
      a.length === sizes.length && a.every((x, i) => x.length === sizes[i]);
    if (!(Number.isInteger(state.step) && state.step >= 0 && fits(state.m) && fits(state.v))) {
      throw new ScalpelError(
        ErrorCode.Internal,
        `AdamW.writeState: the state (step ${state.step}, ${state.m.length} moments) does not fit these ${sizes.length} variables`,
      );
    }
    const assign = (slots: tf.Variable[], values: readonly Float32Array[]): void =>
      slots.forEach((x, i) =>
        tf.tidy(() => x.assign(tf.tensor(values[i] as Float32Array, x.shape, 'float32'))),
      );
    assign(this.m, state.m);
    assign(this.v, state.v);
    this.t = state.step;
  }

  dispose(): void {
    tf.dispose([...this.m, ...this.v]);
  }
}

/** Plain Adam with bias correction: AdamW without weight decay. */
export function adam(
  variables: readonly tf.Variable[],
  options: Omit<AdamWOptions, 'weightDecay' | 'decays'> = {},
): AdamW {
  return new AdamW(variables, { ...options, weightDecay: 0 });
}
