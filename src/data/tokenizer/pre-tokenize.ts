// The text → words step of training, done exactly as @huggingface/tokenizers does it when
// encoding: special tokens are cut out first (leftmost, longest match, like its
// DictionarySplitter), then each remaining piece is split with GPT-2's regex. Training on the
// same pieces the encoder later sees is what makes the learned merges apply as trained.

/** GPT-2's pre-tokenizer pattern (the one the ByteLevel pre-tokenizer uses), Unicode-aware. */
export const GPT2_SPLIT_PATTERN =
  "'s|'t|'re|'ve|'m|'ll|'d| ?\\p{L}+| ?\\p{N}+| ?[^\\s\\p{L}\\p{N}]+|\\s+(?!\\S)|\\s+";

function escapeRegExp(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/**
 * A function cutting `text` into the pieces between special tokens (empty pieces dropped).
 * Alternatives sorted longest first make the regex take the longest token at the leftmost match.
 */
export function specialTokenSplitter(specialTokens: readonly string[]): (text: string) => string[] {
  if (specialTokens.length === 0) return (text) => (text === '' ? [] : [text]);
  const alternatives = [...specialTokens]
    .sort((a, b) => b.length - a.length || (a < b ? -1 : a > b ? 1 : 0))
    .map(escapeRegExp);
  const re = new RegExp(alternatives.join('|'), 'u');
  return (text) => text.split(re).filter((piece) => piece !== '');
}

// matchAll works on a copy, so one shared global regex is safe.
const GPT2_SPLIT = new RegExp(GPT2_SPLIT_PATTERN, 'gu');

/** GPT-2's words of `text` (a piece without special tokens); they concatenate back to `text`. */
export function* preTokenize(text: string): Generator<string> {
  for (const m of text.matchAll(GPT2_SPLIT)) yield m[0];
}

/** How often each word occurs in `texts` (first-seen order, so iteration is deterministic). */
export function countWords(
  texts: Iterable<string>,
  specialTokens: readonly string[],
): Map<string, number> {
  const split = specialTokenSplitter(specialTokens);
  const counts = new Map<string, number>();
  for (const text of texts) {
    for (const piece of split(text)) {
      for (const word of preTokenize(piece)) counts.set(word, (counts.get(word) ?? 0) + 1);
    }
  }
  return counts;
}
