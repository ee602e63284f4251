// A Hugging Face causal LM (GPT-2 or Llama/Mistral) run by scalpel's own tfjs forward, as a
// PrunableModel. The weights live in tf.Variables under their HF names and in HF orientation (so
// tensors() gives back a checkpoint transformers loads); the prunable operators are the linear
// projections inside the blocks, seen as [fanIn, units] whatever their storage.
import * as tf from '@tensorflow/tfjs-core';
import { ErrorCode, ScalpelError } from '../../errors.js';
import type { ForwardHooks, ForwardResult, PrunableModel } from '../../plugin-api/model.js';
import { CausalLmTask } from '../tasks/causal-lm.js';
import type { HiddenStateLm } from '../tasks/row-logits.js';
import type { Architecture, HfArchitectureName } from './architecture.js';
import { checkTensors, checkTiedCopy } from './checkpoint-tensors.js';
import { Gpt2Architecture } from './gpt2.js';
import type { HfCausalLmConfig } from './hf-config.js';
import { HfTensorModel, noRecording, type Recording } from './hf-tensor-model.js';
import { LlamaArchitecture } from './llama.js';
import { valuesView } from '../tensor-storage.js';

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

export class HfCausalLmModel extends HfTensorModel implements PrunableModel, HiddenStateLm {
  readonly family = hfCausalLmFamilyName;
  readonly task: CausalLmTask;
  private readonly arch: Architecture;
  /** The checkpoint stored the tied lm_head.weight copy: tensors() gives it back. */
  private readonly storedTiedCopy: boolean;

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
    super(specs);
    this.arch = arch;
    const tied = layout.tiedCopy;
    this.storedTiedCopy = tied !== undefined && weights.has(tied.name);
    this.takeTensors(layout.tensors, weights, (t, init) => {
      if (this.storedTiedCopy && t.name === tied?.of) {
        const copy = weights.get(tied.name) as Float32Array; // before the view: it allocates
        checkTiedCopy(tied, copy, valuesView(init));
      }
    });
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

  perturbationShape(name: string, inputs: tf.Tensor): [number, number] {
    const spec = this.spec(name);
    return [(inputs.shape[0] ?? 0) * (inputs.shape[1] ?? 0), spec.units];
  }

  exactHessianUnsupported(name: string): string | undefined {
    this.spec(name);
    return `'${name}' is followed by softmax attention and normalisation, which tfjs cannot differentiate twice`;
  }

  /** Copies of every tensor under its HF name and in HF orientation (a checkpoint to save). */
  tensors(): Map<string, Float32Array> {
    const out = this.variableCopies();
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
    // Views, not copies: the checkpoint writer writes each before anything else runs.
    const out = this.variableReaders();
    const tied = this.arch.layout.tiedCopy;
    const of = tied === undefined ? undefined : this.variables.get(tied.of);
    if (this.storedTiedCopy && tied !== undefined && of !== undefined)
      out.set(tied.name, () => valuesView(of));
    return out;
  }
}
