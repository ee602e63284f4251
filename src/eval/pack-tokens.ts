// Packing a token stream into the fixed-length sequences perplexity is measured on: consecutive,
// non-overlapping chunks of seqLength tokens; the tail shorter than seqLength is dropped.
import { ErrorCode, ScalpelError } from '../errors.js';
import type { Samples } from '../plugin-api/dataset.js';

export interface PackedTokens {
  /** The chunks as causal-lm samples (float32 ids, sampleShape [seqLength]). */
  readonly samples: Samples;
  /** Tokens of the stream that ended up in a chunk (the rest is the dropped tail). */
  readonly usedTokens: number;
}

export function packTokenSequences(tokens: ArrayLike<number>, seqLength: number): PackedTokens {
  if (!(Number.isInteger(seqLength) && seqLength >= 2)) {
    throw new ScalpelError(
      ErrorCode.Internal,
      `packTokenSequences: seqLength must be an integer ≥ 2, got ${seqLength}`,
    );
  }
  const count = Math.floor(tokens.length / seqLength);
  const x = new Float32Array(count * seqLength);
  for (let i = 0; i < x.length; i++) x[i] = tokens[i] as number;
  return {
    samples: {
      count,
      sampleShape: [seqLength],
      x,
      y: new Int32Array(count),
      ids: Int32Array.from({ length: count }, (_, i) => i),
    },
    usedTokens: x.length,
  };
}
