// sha256 of files: stage fingerprints (so editing a data or model file invalidates the cache) and
// the recipe hashes in run and sweep records.
import { createHash } from 'node:crypto';
import { createReadStream, readFileSync } from 'node:fs';
import { readFailed } from '../error-factories.js';

/** Hex sha256 of a file's bytes, streamed (large data files). */
export async function sha256File(path: string): Promise<string> {
  const hash = createHash('sha256');
  try {
    for await (const chunk of createReadStream(path)) hash.update(chunk as Buffer);
  } catch (e) {
    throw readFailed(path, e);
  }
  return hash.digest('hex');
}

/** The synchronous form of {@link sha256File}, for small files (recipes). */
export function sha256FileSync(path: string): string {
  let bytes: Buffer;
  try {
    bytes = readFileSync(path);
  } catch (e) {
    throw readFailed(path, e);
  }
  return createHash('sha256').update(bytes).digest('hex');
}
