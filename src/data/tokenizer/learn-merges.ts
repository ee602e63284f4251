// The BPE merge loop over a word-frequency table, with incremental pair counts: every adjacent
// pair's count (weighted by word frequency) and the words it occurs in are kept up to date, so a
// merge only rewrites the words containing the merged pair instead of rescanning the corpus.
// The most frequent pair wins; ties go to the pair whose (left, right) strings sort first
// (UTF-16 code-unit order, locale-free), which makes the result a pure function of the counts.
import { BinaryHeap } from './binary-heap.js';

/** Pair keys pack two ids; vocabularies are limited to this many tokens. */
export const MAX_VOCAB_SIZE = 1 << 21;

export interface MergeLimits {
  /** Stop when the vocabulary has this many tokens. */
  vocabSize: number;
  /** Stop when the best pair occurs fewer times than this. */
  minFrequency: number;
  /** Stop after this many merges. */
  maxMerges: number;
  progress?: ((mergesDone: number, mergesMax: number) => void) | undefined;
}

interface Candidate {
  /** The pair's count when this entry was pushed; stale once it differs from the live count. */
  count: number;
  key: number;
}

const key = (a: number, b: number): number => a * MAX_VOCAB_SIZE + b;
const leftOf = (k: number): number => Math.floor(k / MAX_VOCAB_SIZE);
const rightOf = (k: number): number => k % MAX_VOCAB_SIZE;

/** Replace every (a, b) in `word`, left to right, by `merged`; null when (a, b) does not occur. */
function mergeWord(word: readonly number[], a: number, b: number, merged: number): number[] | null {
  let out: number[] | null = null;
  for (let i = 0; i < word.length; i++) {
    if (i + 1 < word.length && word[i] === a && word[i + 1] === b) {
      out ??= word.slice(0, i);
      out.push(merged);
      i++;
    } else if (out !== null) {
      out.push(word[i]!);
    }
  }
  return out;
}

/**
 * Learn merges until a limit is hit. `tokens` holds the initial vocabulary by id and gets the new
 * tokens appended; `words` (symbol ids) are rewritten in place. Returns the merges in rank order.
 */
export function learnMerges(
  tokens: string[],
  words: number[][],
  frequencies: readonly number[],
  limits: MergeLimits,
): [string, string][] {
  const ids = new Map(tokens.map((t, i) => [t, i]));
  const pairCount = new Map<number, number>();
  // May also list words that no longer hold the pair (cleaned up lazily), never misses one.
  const pairWords = new Map<number, Set<number>>();
  const addPairs = (
    w: number,
    word: readonly number[],
    sign: 1 | -1,
    delta: Map<number, number>,
  ) => {
    const f = sign * frequencies[w]!;
    for (let i = 0; i + 1 < word.length; i++) {
      const k = key(word[i]!, word[i + 1]!);
      delta.set(k, (delta.get(k) ?? 0) + f);
      if (sign > 0) {
        let set = pairWords.get(k);
        if (set === undefined) pairWords.set(k, (set = new Set()));
        set.add(w);
      }
    }
  };

  const pairLess = (x: number, y: number): boolean => {
    const lx = tokens[leftOf(x)]!;
    const ly = tokens[leftOf(y)]!;
    if (lx !== ly) return lx < ly;
    return tokens[rightOf(x)]! < tokens[rightOf(y)]!;
  };
  const heap = new BinaryHeap<Candidate>(
    (x, y) =>
      x.count > y.count || (x.count === y.count && x.key !== y.key && pairLess(x.key, y.key)),
  );
  // Applies count changes; a pair whose count grew gets a fresh entry, so every live pair always
  // has an entry whose count is at least its live count (the pop loop below relies on that).
  const apply = (delta: Map<number, number>) => {
    for (const [k, d] of delta) {
      if (d === 0) continue;
      const c = (pairCount.get(k) ?? 0) + d;
      if (c === 0) {
        pairCount.delete(k);
        pairWords.delete(k);
      } else {
        pairCount.set(k, c);
      }
      if (d > 0) heap.push({ count: c, key: k });
    }
  };

  const initial = new Map<number, number>();
  words.forEach((word, w) => addPairs(w, word, 1, initial));
  apply(initial);

  const mergesMax = Math.min(limits.maxMerges, limits.vocabSize - tokens.length);
  const merges: [string, string][] = [];
  while (tokens.length < limits.vocabSize && merges.length < limits.maxMerges) {
    let best: Candidate | undefined;
    while ((best = heap.pop()) !== undefined) {
      const live = pairCount.get(best.key) ?? 0;
      if (live === best.count) break;
      // Overestimated (the pair lost occurrences): re-file it under its live count.
      if (live > 0) heap.push({ count: live, key: best.key });
    }
    if (best === undefined || best.count < limits.minFrequency) break;

    const a = leftOf(best.key);
    const b = rightOf(best.key);
    const left = tokens[a]!;
    const right = tokens[b]!;
    merges.push([left, right]);
    // Two different merges can spell the same token ("a"+"bc", "ab"+"c"): reuse its id.
    let merged = ids.get(left + right);
    if (merged === undefined) {
      merged = tokens.length;
      tokens.push(left + right);
      ids.set(left + right, merged);
    }

    const delta = new Map<number, number>();
    for (const w of pairWords.get(best.key) ?? []) {
      const word = words[w]!;
      const next = mergeWord(word, a, b, merged);
      if (next === null) continue;
      addPairs(w, word, -1, delta);
      addPairs(w, next, 1, delta);
      words[w] = next;
    }
    apply(delta);
    if (limits.progress !== undefined && merges.length % 64 === 0) {
      limits.progress(merges.length, mergesMax);
    }
  }
  limits.progress?.(merges.length, mergesMax);
  return merges;
}
