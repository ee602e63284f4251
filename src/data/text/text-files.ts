// The generic `text` source: documents from the user's own files.
//   - a .jsonl file: one line = one document, its text in the string field `field` (default
//     'text'); id 'text/<file name>:<line>' (1-based; blank lines are skipped);
//   - a directory: every *.txt file below it, sorted by relative path ('/'-separated, by UTF-16
//     code units); id 'text/<relative path>';
//   - any other file: one document, id 'text/<file name>'.
// With `separator`, each .txt file is cut into documents at every occurrence of that string; the
// pieces get ids '<id of the file>#<k>' (k counts the non-empty pieces from 0). Documents are
// trimmed; whitespace-only pieces are dropped. Files must be UTF-8.
import { basename, join, relative, sep } from 'node:path';
import { ErrorCode, ScalpelError } from '../../errors.js';
import type { Document } from './document.js';
import { decodeText, listDir, readBytes, statPath } from './read-text.js';

export interface TextSourceOptions {
  /** A .txt (or other text) file, a directory of .txt files, or a .jsonl file. Already resolved. */
  readonly path: string;
  /** Cut .txt files into documents at every occurrence of this string. */
  readonly separator?: string;
  /** .jsonl only: the field holding each document's text (default 'text'). */
  readonly field?: string;
}

function optionError(message: string, hint: string): ScalpelError {
  return new ScalpelError(ErrorCode.RecipeSchema, `text source: ${message}`, { hint });
}

const isJsonl = (path: string): boolean => /\.jsonl$/i.test(path);

function textDocuments(id: string, text: string, separator: string | undefined): Document[] {
  const pieces = separator === undefined ? [text] : text.split(separator);
  const docs: Document[] = [];
  for (const piece of pieces) {
    const t = piece.trim();
    if (t === '' && separator !== undefined) continue;
    docs.push({
      id: separator === undefined ? id : `${id}#${docs.length}`,
      source: 'text',
      text: t,
    });
  }
  return docs;
}

function lineError(file: string, line: number, what: string, hint: string): ScalpelError {
  return new ScalpelError(ErrorCode.Data, `${file}:${line}: ${what}`, {
    location: { file, line },
    hint,
  });
}

function jsonlDocuments(file: string, text: string, field: string): Document[] {
  const docs: Document[] = [];
  const name = basename(file);
  text.split('\n').forEach((raw, i) => {
    const line = i + 1;
    if (raw.trim() === '') return;
    let rec: unknown;
    try {
      rec = JSON.parse(raw);
    } catch (e) {
      throw lineError(
        file,
        line,
        `invalid JSON (${(e as Error).message})`,
        'each line must be one JSON object',
      );
    }
    if (typeof rec !== 'object' || rec === null || Array.isArray(rec)) {
      throw lineError(
        file,
        line,
        'not a JSON object',
        `each line must be an object with a '${field}' field`,
      );
    }
    const value = (rec as Record<string, unknown>)[field];
    if (value === undefined) {
      const keys = Object.keys(rec).join(', ') || 'none';
      throw lineError(
        file,
        line,
        `no '${field}' field`,
        `set \`field\` to the field holding the text (this line has: ${keys})`,
      );
    }
    if (typeof value !== 'string') {
      throw lineError(
        file,
        line,
        `field '${field}' is ${typeof value}, not a string`,
        'the text field must be a JSON string',
      );
    }
    docs.push({ id: `text/${name}:${line}`, source: 'text', text: value.trim() });
  });
  return docs;
}

/** Every *.txt file below `dir`, as '/'-separated paths relative to it, sorted. */
export async function txtFilesBelow(dir: string, root = dir): Promise<string[]> {
  const found: string[] = [];
  for (const name of await listDir(
    dir,
    'check the path (relative paths are relative to the recipe file)',
  )) {
    const path = join(dir, name);
    const stats = await statPath(path);
    if (stats.isDirectory()) found.push(...(await txtFilesBelow(path, root)));
    else if (stats.isFile() && /\.txt$/i.test(name))
      found.push(relative(root, path).split(sep).join('/'));
  }
  return found.sort();
}

export async function readTextSource(opts: TextSourceOptions): Promise<Document[]> {
  const { path, separator, field } = opts;
  if (separator === '')
    throw optionError(
      'separator must not be empty',
      'leave separator out for one document per file',
    );
  const stats = await statPath(path);
  if (stats.isDirectory()) {
    if (field !== undefined)
      throw optionError('`field` is for .jsonl files, not directories', 'remove `field`');
    const files = await txtFilesBelow(path);
    if (files.length === 0) {
      throw new ScalpelError(ErrorCode.Data, `no .txt files in ${path}`, {
        location: { file: path },
        hint: 'point `path` at a directory holding .txt files, a .txt file or a .jsonl file',
      });
    }
    const docs: Document[] = [];
    for (const rel of files) {
      const file = join(path, ...rel.split('/'));
      docs.push(
        ...textDocuments(`text/${rel}`, decodeText(await readBytes(file), file), separator),
      );
    }
    return docs;
  }
  const text = decodeText(await readBytes(path), path);
  if (isJsonl(path)) {
    if (separator !== undefined)
      throw optionError(
        '`separator` is for .txt files; a .jsonl file has one document per line',
        'remove `separator`',
      );
    return jsonlDocuments(path, text, field ?? 'text');
  }
  if (field !== undefined)
    throw optionError(
      `\`field\` is for .jsonl files, not ${basename(path)}`,
      'remove `field`, or give a .jsonl file',
    );
  return textDocuments(`text/${basename(path)}`, text, separator);
}
