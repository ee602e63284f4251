// What every Hugging Face model scalpel runs itself shares, whatever its task: the weights as
// tf.Variables under their HF names and in HF orientation, the prunable operators (linear
// projections seen as [fanIn, units] whatever their storage), and the ForwardContext through which
// an architecture's forward runs every linear projection, so that the hooks (recorded inputs,
// reduced inputs, ε, replaced weights, seeded dropout) reach every operator the same way.
// HfCausalLmModel (causal-lm-model.ts) and HfImageClassifierModel (image-classifier-model.ts)
// extend it with their task, forward and checkpoint tensors.
import * as tf from '@tensorflow/tfjs-core';
import { ErrorCode, ScalpelError } from '../../errors.js';
import type { Mask, PrunableLayerInfo } from '../../plugin-api/layers.js';
import type { ForwardHooks } from '../../plugin-api/model.js';
import { tensorFilledInPlace, valuesView } from '../tensor-storage.js';
import type { ForwardContext } from './architecture.js';
import { readsInPlace } from './checkpoint-weights.js';
import type { LinearSpec, TensorSpec } from './checkpoint-tensors.js';
import { matMulTransposedWeight, matMulWeight } from './transformer-ops.js';

/** The [rows, cols] row-major matrix `m` transposed. */
function transpose(m: Float32Array, rows: number, cols: number): Float32Array {
  return transposeInto(m, rows, cols, new Float32Array(m.length));
}

function transposeInto(
  m: Float32Array,
  rows: number,
  cols: number,
  out: Float32Array,
): Float32Array {
  for (let r = 0; r < rows; r++)
    for (let c = 0; c < cols; c++) out[c * rows + r] = m[r * cols + c] as number;
  return out;
}

function infoOf(spec: LinearSpec): PrunableLayerInfo {
  // kernelShape is the [fanIn, units] view that masks and readWeight use.
  return {
    name: spec.name,
    kind: 'dense',
    kernelShape: [spec.fanIn, spec.units],
    fanIn: spec.fanIn,
    units: spec.units,
    paramCount: spec.fanIn * spec.units,
    ...(spec.block !== undefined ? { block: spec.block } : {}),
  };
}

/** What a forward recorded: X of each operator, or what ForwardHooks.reduceInput made of it. */
export interface Recording {
  readonly inputs: Map<string, tf.Tensor>;
  readonly reduced: Map<string, tf.Tensor[]>;
}

export const noRecording = (): Recording => ({ inputs: new Map(), reduced: new Map() });

export abstract class HfTensorModel {
  abstract readonly family: string;
  readonly operators: readonly PrunableLayerInfo[];
  readonly masks = new Map<string, Mask>();
  protected readonly variables = new Map<string, tf.Variable>();
  private readonly linears: ReadonlyMap<string, LinearSpec>;
  private disposed = false;

  /** `operators`: the prunable linear projections, in model order. */
  protected constructor(operators: readonly LinearSpec[]) {
    this.linears = new Map(operators.map((s) => [s.name, s]));
    this.operators = operators.map(infoOf);
  }

  /**
   * One variable per tensor of `tensors`, each taken from `weights` with one get() (or readInto)
   * and dropped once it is a variable: `weights` may read on demand. `check` sees each initial
   * value before it becomes a variable; `shapeOf` gives a variable a shape other than its HF one
   * (same values in the same order). On failure every variable made so far is disposed.
   */
  protected takeTensors(
    tensors: readonly TensorSpec[],
    weights: ReadonlyMap<string, Float32Array>,
    check?: (t: TensorSpec, init: tf.Tensor) => void,
    shapeOf: (t: TensorSpec) => readonly number[] = (t) => t.shape,
  ): void {
    try {
      for (const t of tensors) {
        const shape = [...shapeOf(t)];
        const init = readsInPlace(weights)
          ? tensorFilledInPlace(shape, (dst) => weights.readInto(t.name, dst))
          : tf.tensor(weights.get(t.name) as Float32Array, shape, 'float32');
        try {
          check?.(t, init);
          this.variables.set(t.name, tf.variable(init, true));
        } finally {
          init.dispose();
        }
      }
    } catch (e) {
      for (const v of this.variables.values()) v.dispose();
      throw e;
    }
  }

  protected spec(name: string): LinearSpec {
    const spec = this.linears.get(name);
    if (spec === undefined) {
      throw new ScalpelError(ErrorCode.Data, `the model has no prunable operator '${name}'`, {
        layer: name,
        hint: `prunable operators are the blocks' linear projections, e.g. ${this.operators[0]?.name ?? 'none'}; masks from another model do not fit this one`,
      });
    }
    return spec;
  }

  protected variable(name: string): tf.Variable {
    const v = this.variables.get(name);
    if (v === undefined)
      throw new ScalpelError(ErrorCode.Internal, `no variable for tensor '${name}'`, {
        layer: name,
      });
    return v;
  }

  weightVariable(name: string): tf.Variable {
    return this.variable(this.spec(name).weight);
  }

  weightLayout(name: string): 'same' | 'transposed' {
    return this.spec(name).layout;
  }

  readWeight(name: string): Float32Array {
    const spec = this.spec(name);
    // One copy made from the variable's own storage (dataSync would be a second).
    const stored = valuesView(this.variable(spec.weight));
    return spec.layout === 'same'
      ? Float32Array.from(stored)
      : transpose(stored, spec.units, spec.fanIn);
  }

  writeWeight(name: string, data: Float32Array): void {
    const spec = this.spec(name);
    const v = this.variable(spec.weight);
    if (data.length !== v.size) {
      throw new ScalpelError(
        ErrorCode.Internal,
        `weight of '${name}' needs ${v.size} values, got ${data.length}`,
        { layer: name },
      );
    }
    // Copied straight into the new tensor's storage (the caller keeps `data`, may reuse it).
    const t = tensorFilledInPlace(v.shape, (dst) => {
      if (spec.layout === 'same') dst.set(data);
      else transposeInto(data, spec.fanIn, spec.units, dst);
    });
    v.assign(t);
    t.dispose();
  }

  trainableVariables(): tf.Variable[] {
    return [...this.variables.values()];
  }

  /** Throws for a hook naming an operator the model does not have. */
  protected checkHookNames(hooks: ForwardHooks): void {
    const names = [
      ...(hooks.recordInputs ?? []),
      ...(hooks.perturb?.keys() ?? []),
      ...(hooks.weights?.keys() ?? []),
    ];
    for (const name of names) this.spec(name);
  }

  isLinearInInput(name: string): boolean {
    this.spec(name);
    return true;
  }

  parameterCounts(): { total: number; nonZero: number } {
    let total = 0;
    let nonZero = 0;
    for (const v of this.variables.values()) {
      const values = valuesView(v); // no copy of the model to count it
      total += values.length;
      for (let i = 0; i < values.length; i++) if (values[i] !== 0) nonZero++;
    }
    return { total, nonZero };
  }

  /** Every variable's values by HF name, read when called (a view: use before any tfjs op). */
  protected variableReaders(): Map<string, () => Float32Array> {
    const out = new Map<string, () => Float32Array>();
    const read = (v: tf.Variable) => (): Float32Array => valuesView(v);
    for (const [name, v] of this.variables) out.set(name, read(v));
    return out;
  }

  /** Copies of every variable's values by HF name. */
  protected variableCopies(): Map<string, Float32Array> {
    const out = new Map<string, Float32Array>();
    for (const [name, v] of this.variables)
      out.set(name, Float32Array.from(v.dataSync() as Float32Array));
    return out;
  }

  protected context(
    batch: number,
    seq: number,
    hooks: ForwardHooks,
    recorded: Recording,
  ): ForwardContext {
    const training = hooks.training === true;
    return {
      batch,
      seq,
      param: (name) => this.variable(name),
      linear: (spec, x) => this.linear(spec, x, hooks, recorded),
      dropout: <T extends tf.Tensor>(x: T, rate: number): T => {
        if (!training || rate === 0) return x;
        if (hooks.rng === undefined) {
          throw new ScalpelError(
            ErrorCode.Internal,
            'a training forward with dropout needs hooks.rng (seeded noise)',
          );
        }
        return tf.dropout(x, rate, undefined, hooks.rng.nextUint32()) as T;
      },
      // The recorded inputs are returned from the tidy with the result, so they stay the caller's.
      block: (run) =>
        tf.tidy(() => ({
          h: run(),
          recorded: [...recorded.inputs.values(), ...[...recorded.reduced.values()].flat()],
        })).h,
      finished: () =>
        hooks.inputsOnly === true &&
        hooks.recordInputs !== undefined &&
        [...hooks.recordInputs].every(
          (name) => recorded.inputs.has(name) || recorded.reduced.has(name),
        ),
    };
  }

  /** x·W (+ b) (+ ε) with W the variable, or the hook's [fanIn, units] replacement. */
  private linear(
    spec: LinearSpec,
    x: tf.Tensor2D,
    hooks: ForwardHooks,
    recorded: Recording,
  ): tf.Tensor2D {
    const hooked = this.linears.has(spec.name);
    if (hooked && hooks.recordInputs?.has(spec.name) === true) {
      // Reduced now, the X of every layer need not live until the forward ends.
      if (hooks.reduceInput !== undefined)
        recorded.reduced.set(spec.name, hooks.reduceInput(spec.name, x));
      else recorded.inputs.set(spec.name, x);
    }
    const replaced = hooked ? hooks.weights?.get(spec.name) : undefined;
    const w = this.variable(spec.weight);
    let z: tf.Tensor2D;
    if (replaced !== undefined) {
      z = tf.matMul(
        x,
        this.checkedShape(replaced, [spec.fanIn, spec.units], spec.name, 'replacement weight'),
      );
    } else if (spec.layout === 'transposed') {
      z = matMulTransposedWeight(x, w as tf.Tensor2D);
    } else {
      // Without weight gradients the weight is always the left operand: XNNPACK would otherwise
      // keep a packed copy of it for as long as the variable lives (same values either way).
      const gradients = hooks.training === true || hooks.weightGradients === true;
      z = matMulWeight(x, w as tf.Tensor2D, !gradients);
    }
    if (spec.bias !== undefined) z = tf.add(z, this.variable(spec.bias));
    const epsilon = hooked ? hooks.perturb?.get(spec.name) : undefined;
    if (epsilon !== undefined)
      z = tf.add(z, this.checkedShape(epsilon, [x.shape[0], spec.units], spec.name, 'ε'));
    return z;
  }

  private checkedShape(
    t: tf.Tensor,
    shape: [number, number],
    name: string,
    what: string,
  ): tf.Tensor {
    if (t.size !== shape[0] * shape[1]) {
      throw new ScalpelError(
        ErrorCode.Internal,
        `${what} for '${name}' has shape [${t.shape.join(', ')}], expected [${shape.join(', ')}]`,
        { layer: name },
      );
    }
    return t.rank === 2 ? t : tf.reshape(t, shape);
  }

  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    for (const v of this.variables.values()) v.dispose();
  }
}
