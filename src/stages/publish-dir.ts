// Publishing the export into a user directory without ever leaving it half-written: the files are
// copied into a temporary sibling directory first; a missing target is then created by one rename
// of that directory, an existing one receives each file by rename (atomic per file) so that files
// that are not the export's own (a hand-written README) survive. Export files of an earlier run
// that this export no longer produces (e.g. sparse.bin after sparse: false) are removed: the
// fixed tfjs names always, the names of a Hugging Face export (config.json, tokenizer.json… which
// a user may keep beside a tfjs model) only when the earlier export.json lists them.
import { promises as fs } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { basename, dirname, join } from 'node:path';
import { ErrorCode, ScalpelError } from '../errors.js';
import { isHfCheckpointFileName } from '../models/hf/save-checkpoint.js';
import { isObject } from '../util/is-object.js';

/** The file names of a tfjs export (and the files every export writes). */
export const exportFileNames: readonly string[] = [
  'model.json',
  'weights.bin',
  'masks.json',
  'masks.bin',
  'sparsity.json',
  'sparse.json',
  'sparse.bin',
  'metrics.json',
  'export.json',
];

/** Whether the export stage may write a file of this name, in any format. */
export function isExportFileName(name: string): boolean {
  return exportFileNames.includes(name) || isHfCheckpointFileName(name);
}

/** The export files an earlier export into `target` listed in its export.json (none if unreadable). */
async function previousExportFiles(target: string): Promise<string[]> {
  let json: unknown;
  try {
    json = JSON.parse(await fs.readFile(join(target, 'export.json'), 'utf8'));
  } catch {
    return [];
  }
  const files = isObject(json) && Array.isArray(json.files) ? (json.files as unknown[]) : [];
  return files.filter((f): f is string => typeof f === 'string' && isExportFileName(f));
}

/** The cache's files are read-only; the user's copies of them should not be. */
async function makeUserWritable(dir: string): Promise<void> {
  for (const e of await fs.readdir(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory()) await makeUserWritable(p);
    else if (e.isFile()) await fs.chmod(p, (await fs.stat(p)).mode | 0o200);
  }
}

export async function publishDir(
  fromDir: string,
  target: string,
  ownNames: readonly string[],
  stageId: string,
): Promise<void> {
  const tmp = join(
    dirname(target),
    `.${basename(target)}.tmp-${process.pid}-${randomBytes(4).toString('hex')}`,
  );
  try {
    await fs.mkdir(dirname(target), { recursive: true });
    await fs.cp(fromDir, tmp, { recursive: true });
    await makeUserWritable(tmp);
    const stat = await fs.stat(target).catch(() => undefined);
    if (stat === undefined) {
      await fs.rename(tmp, target);
      return;
    }
    if (!stat.isDirectory()) {
      throw new ScalpelError(
        ErrorCode.Io,
        `stage '${stageId}': export target ${target} exists and is not a directory`,
        {
          stageId,
          hint: 'choose another `to:` path or remove that file',
        },
      );
    }
    const own = new Set([...ownNames, ...(await previousExportFiles(target))]);
    const produced = new Set(await fs.readdir(tmp));
    for (const name of produced) await fs.rename(join(tmp, name), join(target, name));
    for (const name of own)
      if (!produced.has(name)) await fs.rm(join(target, name), { force: true });
  } catch (e) {
    if (e instanceof ScalpelError) throw e;
    throw new ScalpelError(
      ErrorCode.Io,
      `stage '${stageId}': cannot write the export to ${target}: ${(e as Error).message}`,
      {
        stageId,
        hint: 'check that the directory is writable',
        cause: e,
      },
    );
  } finally {
    await fs.rm(tmp, { recursive: true, force: true });
  }
}
