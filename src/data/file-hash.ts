// sha256 of files, for stage fingerprints (so editing a data or model file invalidates the cache).
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { ErrorCode, ScalpelError } from '../errors.js';

export async function sha256File(path: string): Promise<string> {
  const hash = createHash('sha256');
  try {
    for await (const chunk of createReadStream(path)) hash.update(chunk as Buffer);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new ScalpelError(ErrorCode.Io, code === 'ENOENT' ? `file not found: ${path}` : `cannot read ${path}: ${code ?? String(e)}`, {
      hint: 'check the path (relative paths are relative to the recipe file)',
      cause: e,
    });
  }
  return hash.digest('hex');
}
