// A small rule-based sentence splitter for building evaluation tasks from plain text (not a
// linguistic tool; its rules are documented in docs/lm-evaluation.md):
//  1. A blank line (paragraph break) always ends a sentence.
//  2. Inside a paragraph, whitespace runs (line breaks too) become one space.
//  3. A sentence ends after a run of . ! ? (plus any closing quotes or brackets) that is followed
//     by whitespace or the end of the paragraph, unless
//     a. the next character is a lowercase letter ("e.g. this", "he said. and"), or
//     b. the run is a single '.' after a known abbreviation (Mr., Dr., St., e.g.) or after a
//        single capital letter (an initial: "J. Smith").
//  4. Sentences are trimmed; empty ones are dropped.

const abbreviations = new Set([
  'mr',
  'mrs',
  'ms',
  'dr',
  'st',
  'jr',
  'sr',
  'prof',
  'rev',
  'gen',
  'col',
  'capt',
  'lt',
  'sgt',
  'mt',
  'messrs',
  'mme',
  'mlle',
  'vs',
  'etc',
  'e.g',
  'i.e',
  'cf',
  'viz',
]);

/** The terminators, with closing quotes/brackets, that stand before whitespace or the end. */
const terminator = /[.!?]+["'”’)\]]*(?=\s|$)/gu;

function isAbbreviation(paragraph: string, runStart: number): boolean {
  let i = runStart;
  while (i > 0 && !/\s/u.test(paragraph[i - 1] as string)) i--;
  const word = paragraph.slice(i, runStart).replace(/^["'“‘([]+/u, '');
  return abbreviations.has(word.toLowerCase()) || /^\p{Lu}$/u.test(word);
}

function splitParagraph(paragraph: string, out: string[]): void {
  let start = 0;
  for (const m of paragraph.matchAll(terminator)) {
    const at = m.index;
    const end = at + m[0].length;
    const next = paragraph.slice(end).trimStart()[0];
    if (next !== undefined && /\p{Ll}/u.test(next)) continue;
    if (m[0].replace(/["'”’)\]]+$/u, '') === '.' && isAbbreviation(paragraph, at)) continue;
    const s = paragraph.slice(start, end).trim();
    if (s !== '') out.push(s);
    start = end;
  }
  const rest = paragraph.slice(start).trim();
  if (rest !== '') out.push(rest);
}

/** The sentences of `text` in order, each with its whitespace collapsed to single spaces. */
export function splitSentences(text: string): string[] {
  const out: string[] = [];
  for (const paragraph of text.split(/\n[ \t\r\f\v]*\n/u))
    splitParagraph(paragraph.replace(/\s+/gu, ' ').trim(), out);
  return out;
}
