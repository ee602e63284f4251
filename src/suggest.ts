// "Did you mean …?" hints: the closest known name by edit distance, if it is close enough to be
// a plausible typo (or differs only in case / separators).
import { distance } from 'fastest-levenshtein';

function normalise(s: string): string {
  return s.toLowerCase().replace(/[-_\s]/g, '');
}

/** The candidate closest to `name`, or undefined when none is a plausible typo of it. */
export function closest(name: string, candidates: Iterable<string>): string | undefined {
  let best: string | undefined;
  let bestScore = Infinity;
  const n = normalise(name);
  for (const c of candidates) {
    if (c === name) continue;
    const score = normalise(c) === n ? 0 : distance(name.toLowerCase(), c.toLowerCase());
    if (score < bestScore) {
      bestScore = score;
      best = c;
    }
  }
  if (best === undefined) return undefined;
  // Allow about one edit per three characters (at least 2), so 'blokSize'→'blockSize' but not 'x'→'seed'.
  const limit = Math.max(2, Math.floor(Math.max(name.length, best.length) / 3));
  return bestScore <= limit ? best : undefined;
}

/** 'stage type' → 'stage types', 'model family' → 'model families'. */
function plural(what: string): string {
  return /[^aeiou]y$/.test(what) ? `${what.slice(0, -1)}ies` : `${what}s`;
}

/** A hint sentence: "did you mean 'x'?" plus the list of valid names (shortened if long). */
export function suggestionHint(name: string, candidates: readonly string[], what: string): string {
  const best = closest(name, candidates);
  const sorted = [...candidates].sort();
  const list =
    sorted.length === 0
      ? `no ${what} is defined here`
      : `valid ${plural(what)}: ${sorted
          .slice(0, 25)
          .map((c) => `'${c}'`)
          .join(', ')}${sorted.length > 25 ? `, … (${sorted.length} in all)` : ''}`;
  return best !== undefined ? `did you mean '${best}'? (${list})` : list;
}
