// Seeded random text for the tokenizer tests: a mix of English-like words, the whitespace the
// GPT-2 regex treats specially (runs of spaces, tabs, CR/LF, no-break and ideographic spaces),
// contractions, digits, accents (precomposed and combining), CJK, RTL scripts and emoji (astral,
// skin-tone modifiers, ZWJ sequences), plus random code points from across Unicode.
import { Rng } from '../../../src/util/rng.js';

const PIECES = [
  'the',
  ' the',
  ' cat',
  'Hello',
  ' world',
  "'s",
  "'ll",
  "n't",
  ' I',
  'ing',
  ' and',
  '.',
  ',',
  '!',
  '?',
  ' --',
  '"',
  '(',
  ')',
  '42',
  ' 2024',
  '3.14',
  ' ',
  '  ',
  '   ',
  '\t',
  '\n',
  '\n\n',
  '\r\n',
  ' \n ',
  '\u00a0',
  '\u3000',
  'café',
  'cafe\u0301',
  'Straße',
  'naïve',
  ' Ærø',
  '漢字',
  'テスト',
  'مرحبا',
  'שלום',
  'Привет',
  'नमस्ते',
  '😀',
  '👍🏽',
  '👨‍👩‍👧',
  '🇫🇷',
  '\u0000',
  '\u007f',
  '\u200b',
  '\ufeff',
  '~~~',
  '<',
  '>',
  '|',
];

/** A code point from all of Unicode except the surrogate range (which is not text). */
function randomCodePoint(rng: Rng): string {
  for (;;) {
    const cp = rng.float() < 0.5 ? rng.int(0x3000) : rng.int(0x110000);
    if (cp < 0xd800 || cp > 0xdfff) return String.fromCodePoint(cp);
  }
}

/** `count` strings of 1..maxPieces pieces each; `extra` pieces (e.g. special tokens) mix in. */
export function randomTexts(
  seed: number,
  count: number,
  maxPieces: number,
  extra: readonly string[] = [],
): string[] {
  const rng = new Rng(seed);
  const pool = [...PIECES, ...extra];
  const out: string[] = [];
  for (let k = 0; k < count; k++) {
    let s = '';
    const n = 1 + rng.int(maxPieces);
    for (let i = 0; i < n; i++)
      s += rng.float() < 0.15 ? randomCodePoint(rng) : pool[rng.int(pool.length)]!;
    out.push(s);
  }
  return out;
}
