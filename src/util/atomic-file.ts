// Files that must never be seen half-written (run records, cache metadata, stage outputs) are
// written to a temporary name in the same directory, flushed to disk, and renamed over the final
// name: rename is atomic on POSIX filesystems, so readers see the old file or the new one, never
// a mix. The async form is for stages; the sync form for records written from synchronous code.
import {
  closeSync,
  fsyncSync,
  openSync,
  promises as fs,
  renameSync,
  rmSync,
  writeSync,
} from 'node:fs';
import { randomBytes } from 'node:crypto';
import { basename, dirname, join } from 'node:path';

/** A hidden, unique sibling of `path` to write into before the rename. */
function tempSibling(path: string): string {
  return join(
    dirname(path),
    `.${basename(path)}.${process.pid}-${randomBytes(4).toString('hex')}.tmp`,
  );
}

/** Write `data` to `path` atomically (temp file + fsync + rename). */
export async function writeFileAtomic(path: string, data: string | Uint8Array): Promise<void> {
  const tmp = tempSibling(path);
  try {
    const handle = await fs.open(tmp, 'wx');
    try {
      await handle.writeFile(data);
      await handle.sync();
    } finally {
      await handle.close();
    }
    await fs.rename(tmp, path);
  } catch (e) {
    await fs.rm(tmp, { force: true });
    throw e;
  }
}

/** Write `value` as indented JSON (with a final newline) to `path` atomically. */
export async function writeJsonAtomic(path: string, value: unknown): Promise<void> {
  await writeFileAtomic(path, JSON.stringify(value, null, 2) + '\n');
}

/** The synchronous form of {@link writeFileAtomic}. */
export function writeFileAtomicSync(path: string, data: string | Uint8Array): void {
  const tmp = tempSibling(path);
  try {
    const fd = openSync(tmp, 'wx');
    try {
      const buf = typeof data === 'string' ? Buffer.from(data, 'utf8') : data;
      let off = 0;
      while (off < buf.length) off += writeSync(fd, buf, off, buf.length - off);
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    renameSync(tmp, path);
  } catch (e) {
    rmSync(tmp, { force: true });
    throw e;
  }
}

/** The synchronous form of {@link writeJsonAtomic}. */
export function writeJsonAtomicSync(path: string, value: unknown): void {
  writeFileAtomicSync(path, JSON.stringify(value, null, 2) + '\n');
}

/** fsync a directory so a rename inside it survives a crash (a no-op where unsupported). */
export function fsyncDir(dir: string): void {
  let fd: number | undefined;
  try {
    fd = openSync(dir, 'r');
    fsyncSync(fd);
  } catch {
    // Some platforms (Windows) cannot open or fsync directories; atomicity still holds.
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}
