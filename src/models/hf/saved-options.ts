// A family's load options saved beside a checkpoint (a JSON file that save returns as the path
// load takes back): `load` given that file reads the options and loads the directory it is in;
// given anything else, it loads the path as it is, with no saved options.
import { promises as fs } from 'node:fs';
import { basename, dirname } from 'node:path';
import { ErrorCode, ScalpelError } from '../../errors.js';

export async function resolveSavedOptions<T>(
  path: string,
  optionsFile: string,
  parse: (raw: unknown, where: string) => T,
): Promise<{ dir: string; saved: T | undefined }> {
  const stats = await fs.stat(path).catch(() => undefined);
  if (stats?.isFile() !== true || basename(path) !== optionsFile)
    return { dir: path, saved: undefined };
  let json: unknown;
  try {
    json = JSON.parse(await fs.readFile(path, 'utf8'));
  } catch (e) {
    throw new ScalpelError(ErrorCode.Data, `${path} is not valid JSON: ${(e as Error).message}`, {
      location: { file: path },
      hint: 'the model artifact is corrupt; run the stage that wrote it again',
    });
  }
  return { dir: dirname(path), saved: parse(json, path) };
}
