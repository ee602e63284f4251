// The trained tokenizer as plain data: what the trainer returns and the tokenizer.json writer
// reads. Ids: special tokens first (in the order given), then the 256 byte symbols by code point,
// then one id per new token in the order its merge was learned.
import { ErrorCode, ScalpelError } from '../../errors.js';

export interface BpeModel {
  /** Token (in the byte-level alphabet; special tokens verbatim) → id; ids are 0..size-1. */
  readonly vocab: ReadonlyMap<string, number>;
  /** The merges in rank order: `[left, right]` becomes `left + right`. */
  readonly merges: readonly (readonly [string, string])[];
  /** The special tokens, which hold ids 0..specialTokens.length-1. */
  readonly specialTokens: readonly string[];
}

/** The vocabulary as an array indexed by id; throws unless the ids are exactly 0..size-1. */
export function tokensById(model: BpeModel): string[] {
  const tokens: string[] = new Array<string>(model.vocab.size);
  for (const [token, id] of model.vocab) {
    if (!Number.isInteger(id) || id < 0 || id >= tokens.length || tokens[id] !== undefined) {
      throw new ScalpelError(
        ErrorCode.Data,
        `BPE model: token ${JSON.stringify(token)} has id ${id}, but ids must be 0..${tokens.length - 1}, each used once`,
        { hint: 'pass the model returned by trainByteLevelBpe unchanged' },
      );
    }
    tokens[id] = token;
  }
  model.specialTokens.forEach((token, i) => {
    if (tokens[i] !== token) {
      throw new ScalpelError(
        ErrorCode.Data,
        `BPE model: special token ${JSON.stringify(token)} must have id ${i}, has ${model.vocab.get(token) ?? 'none'}`,
        { hint: 'pass the model returned by trainByteLevelBpe unchanged' },
      );
    }
  });
  return tokens;
}
