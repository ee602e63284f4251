// Reading text files for the corpus readers: clear E_IO errors for missing or unreadable paths,
// strict UTF-8 decoding (E_DATA naming the file and byte offset), and '\n' line ends.
import { promises as fs, type Stats } from 'node:fs';
import { ErrorCode, ScalpelError } from '../../errors.js';
import { readFailed } from '../../error-factories.js';

export async function readBytes(path: string, what = 'text file'): Promise<Buffer> {
  try {
    return await fs.readFile(path);
  } catch (e) {
    throw readFailed(path, e, { what });
  }
}

export async function statPath(path: string, what = 'text file'): Promise<Stats> {
  try {
    return await fs.stat(path);
  } catch (e) {
    throw readFailed(path, e, { what });
  }
}

/** The names in a directory (unsorted), with an E_IO error naming it when it cannot be listed. */
export async function listDir(dir: string, hint: string): Promise<string[]> {
  try {
    return await fs.readdir(dir);
  } catch (e) {
    throw new ScalpelError(
      ErrorCode.Io,
      `cannot list ${dir}: ${(e as NodeJS.ErrnoException).code ?? String(e)}`,
      { location: { file: dir }, hint, cause: e },
    );
  }
}

/** Offset of the first invalid byte: where re-encoding the lenient decoding first differs. */
function firstInvalidUtf8(bytes: Uint8Array): number {
  const again = Buffer.from(new TextDecoder('utf-8').decode(bytes), 'utf8');
  let i = 0;
  while (i < bytes.length && bytes[i] === again[i]) i++;
  return i;
}

/**
 * Decode UTF-8 (a leading byte-order mark is dropped). Invalid UTF-8 is an E_DATA error, unless
 * `legacyFallback` is set: then the whole file is read as Windows-1252 (Latin-1 plus curly
 * quotes in 0x80–0x9F), the encoding of the few old Project Gutenberg files that are not UTF-8.
 */
export function decodeText(bytes: Uint8Array, file: string, legacyFallback = false): string {
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true, ignoreBOM: false }).decode(bytes);
  } catch (e) {
    if (legacyFallback) return normalizeNewlines(new TextDecoder('windows-1252').decode(bytes));
    throw new ScalpelError(
      ErrorCode.Data,
      `${file} is not valid UTF-8 (first bad byte at offset ${firstInvalidUtf8(bytes)})`,
      {
        location: { file },
        hint: 'convert the file to UTF-8, e.g. iconv -f latin1 -t utf-8',
        cause: e,
      },
    );
  }
  return normalizeNewlines(text);
}

/** '\r\n' and lone '\r' become '\n', so the same text reads the same on every platform. */
export function normalizeNewlines(text: string): string {
  return text.replace(/\r\n?/g, '\n');
}

/** Read and decode a text file (see decodeText). */
export async function readText(path: string, legacyFallback = false): Promise<string> {
  return decodeText(await readBytes(path), path, legacyFallback);
}
