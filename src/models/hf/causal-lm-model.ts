// A Hugging Face causal LM (GPT-2 or Llama/Mistral) run by scalpel's own tfjs forward, as a
// PrunableModel. The weights live in tf.Variables under their HF names and in HF orientation (so
// tensors() gives back a checkpoint transformers loads); the prunable operators are the linear
// projections inside the blocks, seen as [fanIn, units] whatever their storage.
import * as tf from '@tensorflow/tfjs-core';
import { ErrorCode, ScalpelError } from '../../errors.js';
import type { Mask, PrunableLayerInfo } from '../../plugin-api/layers.js';
import type { ForwardHooks, ForwardResult, PrunableModel } from '../../plugin-api/model.js';
import { CausalLmTask } from '../tasks/causal-lm.js';
import type { HiddenStateLm } from '../tasks/row-logits.js';
import type { Architecture, ForwardContext, HfArchitectureName } from './architecture.js';
import { checkTensors, checkTiedCopy, type LinearSpec } from './checkpoint-tensors.js';
import { Gpt2Architecture } from './gpt2.js';
import type { HfCausalLmConfig } from './hf-config.js';
import { LlamaArchitecture } from './llama.js';
import { matMulTransposedWeight, matMulWeight } from './transformer-ops.js';
import { tensorFilledInPlace, valuesView } from '../tensor-storage.js';
import { readsInPlace } from './checkpoint-weights.js';

export const hfCausalLmFamilyName = 'hf-causal-lm';

export interface HfCausalLmOptions {
  /** Make the (untied) lm_head a prunable operator too. */
  readonly includeLmHead?: boolean;
  /** Stored shapes by tensor name, when the reader knows them (catches transposed tensors). */
  readonly shapes?: ReadonlyMap<string, readonly number[]>;
}

export function architectureFor(
  config: HfCausalLmConfig,
  names: ReadonlySet<string>,
): Architecture {
  return config.architecture === 'gpt2'
    ? new Gpt2Architecture(config, names)
    : new LlamaArchitecture(config);
}

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
interface Recording {
  readonly inputs: Map<string, tf.Tensor>;
  readonly reduced: Map<string, tf.Tensor[]>;
}

const noRecording = (): Recording => ({ inputs: new Map(), reduced: new Map() });

export class HfCausalLmModel implements PrunableModel, HiddenStateLm {
  readonly family = hfCausalLmFamilyName;
  readonly task: CausalLmTask;
  readonly operators: readonly PrunableLayerInfo[];
  readonly masks = new Map<string, Mask>();
  private readonly arch: Architecture;
  private readonly variables = new Map<string, tf.Variable>();
  private readonly linears: Map<string, LinearSpec>;
  /** The checkpoint stored the tied lm_head.weight copy: tensors() gives it back. */
  private readonly storedTiedCopy: boolean;
  private disposed = false;

  /**
   * `weights` by HF name: a Map, or a read-on-demand map (CheckpointWeights) whose get() is called
   * once per tensor; with `options.shapes` the sizes are checked from the shapes, not the data.
   */
  constructor(
    readonly config: HfCausalLmConfig,
    weights: ReadonlyMap<string, Float32Array>,
    options: HfCausalLmOptions = {},
  ) {
    const arch = architectureFor(config, new Set(weights.keys()));
    this.arch = arch;
    const { layout } = arch;
    checkTensors(layout, weights, `${arch.name} (${config.modelType})`, options.shapes);
    const specs = [...layout.linears];
    if (options.includeLmHead === true) {
      if (layout.lmHead === undefined) {
        throw new ScalpelError(
          ErrorCode.Data,
          'includeLmHead: the lm_head of this model is tied to the token embedding, which is not prunable',
          {
            layer: 'lm_head',
            hint: 'leave includeLmHead off for models with tie_word_embeddings',
          },
        );
      }
      specs.push(layout.lmHead);
    }
    this.linears = new Map(specs.map((s) => [s.name, s]));
    this.operators = specs.map(infoOf);
    const tied = layout.tiedCopy;
    this.storedTiedCopy = tied !== undefined && weights.has(tied.name);
    try {
      // One get() per tensor, dropped once it is a variable: `weights` may read on demand.
      for (const t of layout.tensors) {
        const init = readsInPlace(weights)
          ? tensorFilledInPlace(t.shape, (dst) => weights.readInto(t.name, dst))
          : tf.tensor(weights.get(t.name) as Float32Array, [...t.shape], 'float32');
        try {
          if (this.storedTiedCopy && t.name === tied?.of) {
            const copy = weights.get(tied.name) as Float32Array; // before the view: it allocates
            checkTiedCopy(tied, copy, valuesView(init));
          }
          this.variables.set(t.name, tf.variable(init, true));
        } finally {
          init.dispose();
        }
      }
    } catch (e) {
      for (const v of this.variables.values()) v.dispose();
      throw e;
    }
    this.task = new CausalLmTask({
      vocabSize: config.vocabSize,
      maxPositions: config.maxPositions,
    });
  }

  /** Logits per position (HiddenStateLm). */
  get vocabSize(): number {
    return this.config.vocabSize;
  }

  /** 'gpt2' | 'llama' (Mistral runs as llama). */
  get architecture(): HfArchitectureName {
    return this.arch.name;
  }

  private spec(name: string): LinearSpec {
    const spec = this.linears.get(name);
    if (spec === undefined) {
      throw new ScalpelError(ErrorCode.Data, `the model has no prunable operator '${name}'`, {
        layer: name,
        hint: `prunable operators are the blocks' linear projections, e.g. ${this.operators[0]?.name ?? 'none'}; masks from another model do not fit this one`,
      });
    }
    return spec;
  }

  private variable(name: string): tf.Variable {
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

  private checkHookNames(hooks: ForwardHooks): void {
    const names = [
      ...(hooks.recordInputs ?? []),
      ...(hooks.perturb?.keys() ?? []),
      ...(hooks.weights?.keys() ?? []),
    ];
    for (const name of names) this.spec(name);
  }

  forward(inputs: tf.Tensor, hooks: ForwardHooks = {}): ForwardResult {
    const ids = this.tokenIds(inputs);
    this.checkHookNames(hooks);
    const [batch, seq] = ids.shape;
    const recorded: Recording = { inputs: new Map(), reduced: new Map() };
    const ctx = this.context(batch, seq, hooks, recorded);
    const hidden = this.arch.hidden(ctx, ids);
    // Inputs only: no LM head (GPT-2: [rows, 50257] logits the statistics never read).
    const made = { inputs: recorded.inputs, reducedInputs: recorded.reduced };
    if (ctx.finished()) return { output: hidden, ...made };
    const logits = this.arch.head(ctx, hidden);
    return { output: tf.reshape(logits, [batch, seq, this.config.vocabSize]), ...made };
  }

  /**
   * The forward without the LM head: final hidden states [batch·seq, width] of token ids
   * [batch, seq] (no hooks). With lmHead, evaluation takes the logits a few positions at a time
   * instead of all [batch, seq, vocab] of them (GPT-2: 25 MB per sequence of 128, twice over
   * while the tied head's product is transposed).
   */
  hiddenStates(inputs: tf.Tensor): tf.Tensor2D {
    const ids = this.tokenIds(inputs);
    return this.arch.hidden(this.context(ids.shape[0], ids.shape[1], {}, noRecording()), ids);
  }

  /** Logits [rows, vocab] of final hidden states [rows, width] (rows of hiddenStates). */
  lmHead(hidden: tf.Tensor2D): tf.Tensor2D {
    return this.arch.head(this.context(hidden.shape[0], 1, {}, noRecording()), hidden);
  }

  private tokenIds(inputs: tf.Tensor): tf.Tensor2D {
    if (inputs.rank !== 2) {
      throw new ScalpelError(
        ErrorCode.Data,
        `a causal LM takes token ids [batch, seq], got shape [${inputs.shape.join(', ')}]`,
        {
          hint: 'feed batches of the causal-lm task',
        },
      );
    }
    return (inputs.dtype === 'int32' ? inputs : tf.cast(inputs, 'int32')) as tf.Tensor2D;
  }

  private context(
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
        this.checkedShape(
          replaced,
          [spec.fanIn, spec.units],
          spec.name,
          'replacement weight',
        ) as tf.Tensor2D,
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

  perturbationShape(name: string, inputs: tf.Tensor): [number, number] {
    const spec = this.spec(name);
    return [(inputs.shape[0] ?? 0) * (inputs.shape[1] ?? 0), spec.units];
  }

  isLinearInInput(name: string): boolean {
    this.spec(name);
    return true;
  }

  exactHessianUnsupported(name: string): string | undefined {
    this.spec(name);
    return `'${name}' is followed by softmax attention and normalisation, which tfjs cannot differentiate twice`;
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

  /** Copies of every tensor under its HF name and in HF orientation (a checkpoint to save). */
  tensors(): Map<string, Float32Array> {
    const out = new Map<string, Float32Array>();
    for (const [name, v] of this.variables)
      out.set(name, Float32Array.from(v.dataSync() as Float32Array));
    const tied = this.arch.layout.tiedCopy;
    if (this.storedTiedCopy && tied !== undefined)
      out.set(tied.name, Float32Array.from(out.get(tied.of) ?? []));
    return out;
  }

  /**
   * Every tensor's name (as tensors() names them) with a function reading its values when
   * called: a save writes one tensor at a time instead of holding a copy of the whole model.
   * The values are a view of the variable (valuesView): use them before any tfjs op or await.
   */
  tensorReaders(): Map<string, () => Float32Array> {
    const out = new Map<string, () => Float32Array>();
    // A view, not a copy: the checkpoint writer writes it before anything else runs.
    const read = (v: tf.Variable) => (): Float32Array => valuesView(v);
    for (const [name, v] of this.variables) out.set(name, read(v));
    const tied = this.arch.layout.tiedCopy;
    const of = tied === undefined ? undefined : this.variables.get(tied.of);
    if (this.storedTiedCopy && tied !== undefined && of !== undefined) out.set(tied.name, read(of));
    return out;
  }

  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    for (const v of this.variables.values()) v.dispose();
  }
}
