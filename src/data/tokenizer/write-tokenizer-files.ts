// Writes tokenizer.json and tokenizer_config.json into a directory, each atomically, so a reader
// never sees half a file.
import { promises as fs } from 'node:fs';
import { join } from 'node:path';
import { ScalpelError } from '../../errors.js';
import { writeFailed } from '../../error-factories.js';
import { writeJsonAtomic } from '../../util/atomic-file.js';
import type { BpeModel } from './bpe-model.js';
import { tokenizerConfigJson, type TokenizerConfigOptions } from './tokenizer-config.js';
import { tokenizerJson } from './tokenizer-json.js';

export interface TokenizerFiles {
  tokenizerJson: string;
  tokenizerConfigJson: string;
}

/** Write both files into `dir` (created if missing); returns their paths. */
export async function writeTokenizerFiles(
  dir: string,
  model: BpeModel,
  options: TokenizerConfigOptions = {},
): Promise<TokenizerFiles> {
  // Build both objects first: a bad model or option fails before anything is written.
  const json = tokenizerJson(model);
  const config = tokenizerConfigJson(model, options);
  const files = {
    tokenizerJson: join(dir, 'tokenizer.json'),
    tokenizerConfigJson: join(dir, 'tokenizer_config.json'),
  };
  let current = dir;
  try {
    await fs.mkdir(dir, { recursive: true });
    current = files.tokenizerJson;
    await writeJsonAtomic(current, json);
    current = files.tokenizerConfigJson;
    await writeJsonAtomic(current, config);
  } catch (e) {
    throw e instanceof ScalpelError ? e : writeFailed(current, e);
  }
  return files;
}
