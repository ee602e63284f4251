// Independent, deliberately naive byte-level BPE for the tests, written from the definitions
// (GPT-2's encoder.py and the BPE algorithm) without any code from src/data/tokenizer: it
// recounts every pair before each merge and encodes a word by repeatedly merging its lowest-rank
// pair, as openai/gpt-2's `bpe()` does.

/** GPT-2's bytes_to_unicode, transcribed from encoder.py: byte → character. */
export function referenceBytesToUnicode(): Map<number, string> {
  const range = (from: string, to: string) =>
    Array.from(
      { length: to.charCodeAt(0) - from.charCodeAt(0) + 1 },
      (_, i) => from.charCodeAt(0) + i,
    );
  const bs = [...range('!', '~'), ...range('¡', '¬'), ...range('®', 'ÿ')];
  const cs = [...bs];
  let n = 0;
  for (let b = 0; b < 256; b++) {
    if (!bs.includes(b)) {
      bs.push(b);
      cs.push(256 + n);
      n += 1;
    }
  }
  return new Map(bs.map((b, i) => [b, String.fromCharCode(cs[i]!)]));
}

const BYTE_CHAR = referenceBytesToUnicode();
const GPT2_REGEX = /'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+/gu;

/** The text in order as special tokens and the pieces between them, cutting at the leftmost,
 *  longest special token each time. */
export function referenceSegments(
  text: string,
  specials: readonly string[],
): { special: boolean; text: string }[] {
  const out: { special: boolean; text: string }[] = [];
  let start = 0;
  let i = 0;
  while (i < text.length) {
    let best = '';
    for (const s of specials) if (s.length > best.length && text.startsWith(s, i)) best = s;
    if (best === '') {
      i++;
      continue;
    }
    if (i > start) out.push({ special: false, text: text.slice(start, i) });
    out.push({ special: true, text: best });
    i += best.length;
    start = i;
  }
  if (start < text.length) out.push({ special: false, text: text.slice(start) });
  return out;
}

/** A word's symbols: one per UTF-8 byte. */
function spell(word: string): string[] {
  return Array.from(new TextEncoder().encode(word), (b) => BYTE_CHAR.get(b)!);
}

function words(texts: readonly string[], specials: readonly string[]): Map<string, number> {
  const counts = new Map<string, number>();
  for (const text of texts) {
    for (const seg of referenceSegments(text, specials)) {
      if (seg.special) continue;
      for (const w of seg.text.match(GPT2_REGEX) ?? []) counts.set(w, (counts.get(w) ?? 0) + 1);
    }
  }
  return counts;
}

function mergeAll(symbols: string[], a: string, b: string): string[] {
  const out: string[] = [];
  for (let i = 0; i < symbols.length; i++) {
    if (i + 1 < symbols.length && symbols[i] === a && symbols[i + 1] === b) {
      out.push(a + b);
      i++;
    } else {
      out.push(symbols[i]!);
    }
  }
  return out;
}

export interface ReferenceModel {
  vocab: Map<string, number>;
  merges: [string, string][];
}

/** Naive training: recount all pairs, take the most frequent (ties: smallest (left, right)). */
export function referenceTrain(
  texts: readonly string[],
  vocabSize: number,
  minFrequency: number,
  specials: readonly string[],
): ReferenceModel {
  const alphabet = [...BYTE_CHAR.values()].sort((x, y) => x.codePointAt(0)! - y.codePointAt(0)!);
  const tokens = [...specials, ...alphabet];
  const table = [...words(texts, specials)].map(([w, n]) => ({ symbols: spell(w), n }));
  const merges: [string, string][] = [];
  while (tokens.length < vocabSize) {
    const pairs = new Map<string, { a: string; b: string; count: number }>();
    for (const { symbols, n } of table) {
      for (let i = 0; i + 1 < symbols.length; i++) {
        const id = JSON.stringify([symbols[i], symbols[i + 1]]);
        const p = pairs.get(id) ?? { a: symbols[i]!, b: symbols[i + 1]!, count: 0 };
        p.count += n;
        pairs.set(id, p);
      }
    }
    let best: { a: string; b: string; count: number } | undefined;
    for (const p of pairs.values()) {
      if (
        best === undefined ||
        p.count > best.count ||
        (p.count === best.count && (p.a < best.a || (p.a === best.a && p.b < best.b)))
      ) {
        best = p;
      }
    }
    if (best === undefined || best.count < minFrequency) break;
    merges.push([best.a, best.b]);
    if (!tokens.includes(best.a + best.b)) tokens.push(best.a + best.b);
    for (const entry of table) entry.symbols = mergeAll(entry.symbols, best.a, best.b);
  }
  return { vocab: new Map(tokens.map((t, i) => [t, i])), merges };
}

/** GPT-2's `bpe()` on one word: merge the lowest-rank adjacent pair until none is ranked. */
function bpeWord(word: string, ranks: Map<string, number>): string[] {
  let symbols = spell(word);
  for (;;) {
    let best: [string, string] | undefined;
    let bestRank = Infinity;
    for (let i = 0; i + 1 < symbols.length; i++) {
      const r = ranks.get(`${symbols[i]} ${symbols[i + 1]}`);
      if (r !== undefined && r < bestRank) {
        bestRank = r;
        best = [symbols[i]!, symbols[i + 1]!];
      }
    }
    if (best === undefined) return symbols;
    symbols = mergeAll(symbols, best[0], best[1]);
  }
}

/** Token ids of `text` under `merges` (rank = index) and `vocab`; specials are single tokens. */
export function referenceEncode(
  text: string,
  vocab: ReadonlyMap<string, number>,
  merges: readonly (readonly [string, string])[],
  specials: readonly string[],
): number[] {
  const ranks = new Map(merges.map(([a, b], i) => [`${a} ${b}`, i]));
  const ids: number[] = [];
  for (const seg of referenceSegments(text, specials)) {
    if (seg.special) {
      ids.push(vocab.get(seg.text)!);
      continue;
    }
    for (const w of seg.text.match(GPT2_REGEX) ?? []) {
      for (const t of bpeWord(w, ranks)) ids.push(vocab.get(t)!);
    }
  }
  return ids;
}
