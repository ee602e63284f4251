// Cache-key material of a text dataset that its params do not capture: the name and version of
// each bundled corpus package, the sha256 of the user's text files and of the tokenizer files, so
// that editing any of them (or upgrading a corpus) retokenizes.
import { join } from 'node:path';
import { sha256File } from '../../util/file-hash.js';
import { findPackage } from '../sources/npm-package.js';
import { corpusPackages } from './corpora.js';
import { statPath } from './read-text.js';
import { txtFilesBelow } from './text-files.js';
import type { TextDatasetOptions } from './text-options.js';
import { resolveTokenizerFiles } from './tokenizer-files.js';

/** sha256 of the file, or of each .txt file below the directory (by '/'-separated relative path). */
export async function hashTextPath(path: string): Promise<string | Record<string, string>> {
  if (!(await statPath(path)).isDirectory()) return sha256File(path);
  const out: Record<string, string> = {};
  for (const rel of await txtFilesBelow(path))
    out[rel] = await sha256File(join(path, ...rel.split('/')));
  return out;
}

/** The documents' part: bundled corpus packages and versions, hashes of the user's text. */
export async function textSourceFingerprint(
  opts: Pick<TextDatasetOptions, 'corpora' | 'path'>,
  resolvePath: (p: string) => string,
): Promise<{ corpora: unknown[]; text: unknown }> {
  const corpora = (opts.corpora ?? []).map((name) => {
    const pkg = findPackage(corpusPackages[name]);
    return { corpus: name, package: pkg.name, version: pkg.version };
  });
  return {
    corpora,
    text: opts.path !== undefined ? await hashTextPath(resolvePath(opts.path)) : null,
  };
}

export async function textDatasetFingerprint(
  opts: TextDatasetOptions,
  resolvePath: (p: string) => string,
): Promise<unknown> {
  const source = await textSourceFingerprint(opts, resolvePath);
  // A tokenizer from a train-tokenizer input is covered by that input's hash.
  if (opts.tokenizer === undefined) return { ...source, tokenizer: 'input' };
  const files = resolveTokenizerFiles(resolvePath(opts.tokenizer));
  return {
    ...source,
    tokenizer: await sha256File(files.tokenizer),
    tokenizerConfig: files.config !== undefined ? await sha256File(files.config) : null,
  };
}
