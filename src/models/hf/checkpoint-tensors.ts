// The tensors an architecture expects in a checkpoint (HF names and HF shapes, derived from the
// config), and the one check that a weights map holds exactly those: nothing missing, nothing
// unexpected, every size (and shape, when the reader knows it) as the config says.
import { ErrorCode, ScalpelError } from '../../errors.js';

export interface TensorSpec {
  /** The HF name as stored in the checkpoint (with its prefix, if any). */
  readonly name: string;
  /** The HF shape ([out, in] for nn.Linear, [in, out] for GPT-2's Conv1D). */
  readonly shape: readonly number[];
}

/** A prunable linear projection: y = x·W (+ b), W seen as [fanIn, units]. */
export interface LinearSpec {
  /** Operator name: the weight's HF name without `.weight`. */
  readonly name: string;
  readonly weight: string;
  readonly bias?: string;
  /** 'transposed' when stored [units, fanIn] (nn.Linear), 'same' when [fanIn, units] (Conv1D). */
  readonly layout: 'same' | 'transposed';
  readonly fanIn: number;
  readonly units: number;
  /** The transformer block it belongs to ('model.layers.3'); absent for the lm_head. */
  readonly block?: string;
}

/** What an architecture's file derives from its config and the checkpoint's names. */
export interface CheckpointLayout {
  /** Every tensor held as a variable, in checkpoint order. */
  readonly tensors: readonly TensorSpec[];
  /** The linear projections inside the blocks, in model order. */
  readonly linears: readonly LinearSpec[];
  /** The untied output projection, when the model has one. */
  readonly lmHead: LinearSpec | undefined;
  /** A stored lm_head.weight that must equal the embedding it is tied to. */
  readonly tiedCopy: { readonly name: string; readonly of: string } | undefined;
  /** Names transformers ignores on load (non-persistent buffers saved by old versions). */
  readonly ignored: RegExp;
}

/**
 * The output projection of a causal LM: untied, an `lm_head.weight` [vocab, d] stored like an
 * nn.Linear (and listed in `tensors`); tied, the embedding `embedding`, with a stored
 * `lm_head.weight` accepted as a copy that must equal it.
 */
export function lmHeadLayout(
  tied: boolean,
  vocabSize: number,
  d: number,
  embedding: string,
  tensors: TensorSpec[],
): Pick<CheckpointLayout, 'lmHead' | 'tiedCopy'> {
  if (tied) return { lmHead: undefined, tiedCopy: { name: 'lm_head.weight', of: embedding } };
  tensors.push({ name: 'lm_head.weight', shape: [vocabSize, d] });
  return {
    lmHead: {
      name: 'lm_head',
      weight: 'lm_head.weight',
      layout: 'transposed',
      fanIn: d,
      units: vocabSize,
    },
    tiedCopy: undefined,
  };
}

const shapeText = (s: readonly number[]): string => `[${s.join(', ')}]`;
const sizeOf = (s: readonly number[]): number => s.reduce((a, b) => a * b, 1);

/**
 * Throws E_DATA for the first missing, unexpected or mis-shaped tensor. `shapes` (optional) are the
 * stored shapes, which catch a transposed tensor that element counts alone cannot; a tensor with a
 * stored shape is checked by it alone, so a read-on-demand `weights` map is not read here. The
 * stored tied copy's values are checked by {@link checkTiedCopy} when the tensors are taken.
 */
export function checkTensors(
  layout: CheckpointLayout,
  weights: ReadonlyMap<string, Float32Array>,
  what: string,
  shapes?: ReadonlyMap<string, readonly number[]>,
): void {
  const expected = new Map(layout.tensors.map((t) => [t.name, t.shape]));
  if (layout.tiedCopy !== undefined) {
    expected.set(layout.tiedCopy.name, expected.get(layout.tiedCopy.of) ?? []);
  }
  for (const [name, shape] of expected) {
    const present = weights.has(name);
    if (!present && name === layout.tiedCopy?.name) continue;
    if (!present) {
      throw new ScalpelError(
        ErrorCode.Data,
        `the ${what} checkpoint has no tensor '${name}' (expected shape ${shapeText(shape)})`,
        {
          layer: name,
          hint: 'the weights do not belong to this config.json, or the checkpoint is incomplete',
        },
      );
    }
    const stored = shapes?.get(name);
    const count = stored !== undefined ? sizeOf(stored) : (weights.get(name)?.length ?? 0);
    const sameShape =
      stored === undefined ||
      (stored.length === shape.length && stored.every((d, i) => d === shape[i]));
    if (count !== sizeOf(shape) || !sameShape) {
      const got = stored !== undefined ? `shape ${shapeText(stored)}` : `${count} values`;
      throw new ScalpelError(
        ErrorCode.Data,
        `tensor '${name}' has ${got}; the config expects shape ${shapeText(shape)}`,
        {
          layer: name,
          hint: 'the weights do not belong to this config.json (different sizes)',
        },
      );
    }
  }
  for (const name of weights.keys()) {
    if (!expected.has(name) && !layout.ignored.test(name)) {
      throw new ScalpelError(
        ErrorCode.Data,
        `unexpected tensor '${name}' in the ${what} checkpoint`,
        {
          layer: name,
          hint: 'the weights belong to another architecture or head than config.json describes',
        },
      );
    }
  }
}

/** Throws E_DATA when a stored tied lm_head copy differs from the embedding it is tied to. */
export function checkTiedCopy(
  tied: { readonly name: string; readonly of: string },
  copy: Float32Array,
  of: Float32Array,
): void {
  if (copy.length === of.length && copy.every((v, i) => v === of[i])) return;
  throw new ScalpelError(
    ErrorCode.Data,
    `tensor '${tied.name}' differs from '${tied.of}' but the config ties them (tie_word_embeddings)`,
    {
      layer: tied.name,
      hint: "set 'tie_word_embeddings': false in config.json if the output projection is its own weight",
    },
  );
}
