// A random id stored once in a cache root (`<root>/cache-id`): the coordinator puts its cache's
// id into every job and a worker refuses jobs whose id differs from its own --cache-dir's, so a
// worker that mounted the wrong directory (or none) fails clearly instead of computing into a
// cache nobody reads.
import { randomBytes } from 'node:crypto';
import { linkSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

const ID_FILE = 'cache-id';

/** The id of the cache at `root`, created on first use (the first writer wins a race). */
export function cacheIdentity(root: string): string {
  const file = join(root, ID_FILE);
  const read = (): string | undefined => {
    try {
      const text = readFileSync(file, 'utf8').trim();
      return /^[0-9a-f]{32}$/.test(text) ? text : undefined;
    } catch {
      return undefined;
    }
  };
  const existing = read();
  if (existing !== undefined) return existing;
  mkdirSync(root, { recursive: true });
  // Written aside, then hard-linked into place: link fails if the file exists, so the id is
  // never seen half-written and the first writer wins.
  const tmp = `${file}.${process.pid}.${randomBytes(4).toString('hex')}`;
  writeFileSync(tmp, randomBytes(16).toString('hex') + '\n');
  try {
    linkSync(tmp, file);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
  } finally {
    rmSync(tmp, { force: true });
  }
  const id = read();
  if (id === undefined) throw new Error(`cache id file ${file} is unreadable`);
  return id;
}
