// Bits per byte of a text split from the mean next-token NLL: total NLL in bits over the UTF-8
// bytes the predicted tokens stand for. A text dataset records each split's bytes and tokens
// (provenance.splits[split]); the predicted tokens are a fraction of them (the first token of
// each sequence is never predicted, the packing tail is dropped), so the bytes are scaled by
// that fraction — exact when bytes per token is uniform, and documented as such.
export interface SplitTextCounts {
  readonly bytes: number;
  readonly tokens: number;
}

/** The split's counts recorded by load-dataset's `source: text`, if the dataset has them. */
export function splitTextCounts(
  provenance: Readonly<Record<string, unknown>> | undefined,
  split: string,
): SplitTextCounts | undefined {
  const splits = provenance?.splits as
    Record<string, { bytes?: unknown; tokens?: unknown }> | undefined;
  const s = splits?.[split];
  return typeof s?.bytes === 'number' && typeof s.tokens === 'number' && s.tokens > 0
    ? { bytes: s.bytes, tokens: s.tokens }
    : undefined;
}

export function bitsPerByte(
  meanNll: number,
  predictedTokens: number,
  counts: SplitTextCounts,
): number {
  const bytes = (counts.bytes * predictedTokens) / counts.tokens;
  return (meanNll * predictedTokens) / Math.LN2 / bytes;
}
