// Where a recipe's `tokenizer:` points: a tokenizer.json, or a model directory holding one, and
// the tokenizer_config.json next to it when there is one (loadTokenizer reads it from there too).
import { existsSync, promises as fs, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { ErrorCode, ScalpelError } from '../../errors.js';

export interface TokenizerFiles {
  readonly tokenizer: string;
  readonly config: string | undefined;
}

export function resolveTokenizerFiles(path: string): TokenizerFiles {
  if (!existsSync(path)) {
    throw new ScalpelError(ErrorCode.Io, `tokenizer not found: ${path}`, {
      location: { file: path },
      hint: 'set `tokenizer` to a tokenizer.json or a directory holding one (relative to the recipe)',
    });
  }
  const tokenizer = statSync(path).isDirectory() ? join(path, 'tokenizer.json') : path;
  if (!existsSync(tokenizer)) {
    throw new ScalpelError(ErrorCode.Io, `no tokenizer.json in ${path}`, {
      location: { file: path },
      hint: 'point `tokenizer` at a tokenizer.json, or at a model directory that holds one',
    });
  }
  const sibling = join(dirname(tokenizer), 'tokenizer_config.json');
  return { tokenizer, config: existsSync(sibling) ? sibling : undefined };
}

/** The directory of a text dataset artifact that holds a copy of its tokenizer files. */
export const datasetTokenizerDir = 'tokenizer';

/** Copy the tokenizer files into `dir` (created) under their usual names. */
export async function copyTokenizerFiles(files: TokenizerFiles, dir: string): Promise<void> {
  await fs.mkdir(dir, { recursive: true });
  await fs.copyFile(files.tokenizer, join(dir, 'tokenizer.json'));
  if (files.config !== undefined)
    await fs.copyFile(files.config, join(dir, 'tokenizer_config.json'));
}
