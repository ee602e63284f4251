// The content-addressed cache of finished nodes: `<root>/cache/<hash>/` holds the stage's files in
// `out/` and `entry.json`. An entry is built in `<root>/tmp/<hash>-<pid>-<random>/`, entry.json is
// written last and fsync'd, and the whole directory is renamed into place: a directory under
// cache/ either is complete or has no valid entry.json, and only a valid entry.json is a hit.
// Each temp directory has a lease beside it (`<name>.lease`, cache-lease.ts: host, pid, heartbeat),
// so hosts sharing the cache root (NFS) can tell work in progress from leftovers of a process or
// machine that died; `cleanStale` removes only the latter.
// Run records hard-link the files of out/, so a committed entry's files are read-only and their
// sha256 is in entry.json: `verify` re-hashes a hit before it is used (entry-integrity.ts).
import {
  closeSync,
  existsSync,
  fsyncSync,
  lstatSync,
  mkdirSync,
  openSync,
  readFileSync,
  readdirSync,
  renameSync,
  rmSync,
  writeSync,
} from 'node:fs';
import { randomBytes } from 'node:crypto';
import { join, resolve } from 'node:path';
import { ErrorCode, ScalpelError } from '../errors.js';
import type { ArtifactKind } from '../plugin-api/stage.js';
import { fsyncDir } from '../util/atomic-file.js';
import {
  filesContentProblem,
  makeReadOnly,
  quickFilesProblem,
  sha256FileChunkedSync,
  type EntryFile,
} from './entry-integrity.js';
import { acquireLease, leaseState, releaseLease } from './cache-lease.js';

/** 2: files carry their sha256 and are read-only. Entries of another format are misses. */
export const ENTRY_FORMAT = 2;
const ENTRY_FILE = 'entry.json';
const OUT_DIR = 'out';

export interface EntryTimings {
  readonly startedAt: string;
  readonly finishedAt: string;
  readonly durationMs: number;
}

/** What the engine supplies when committing an entry. */
export interface EntryInfo {
  readonly kind: ArtifactKind;
  readonly stageType: string;
  readonly stageVersion: string;
  readonly manifest: Record<string, unknown>;
  readonly metrics: Record<string, unknown>;
  readonly timings: EntryTimings;
}

/** The contents of entry.json. */
export interface EntryMeta extends EntryInfo {
  readonly format: number;
  readonly hash: string;
  readonly created: string;
  /** Every regular file under out/: size (checked on every lookup) and sha256 (by `verify`). */
  readonly files: readonly EntryFile[];
}

export interface CacheEntry {
  readonly hash: string;
  /** The entry directory. */
  readonly dir: string;
  /** The stage's files (the Artifact's `dir`). */
  readonly outDir: string;
  readonly meta: EntryMeta;
}

/** An entry under construction. The stage writes into `outDir`. */
export interface PendingEntry {
  readonly hash: string;
  readonly tmpDir: string;
  readonly outDir: string;
}

export interface CacheRootOptions {
  /** Explicit root (`--cache-dir`); wins over the environment. */
  cacheDir?: string | undefined;
  /** Base for the default `.scalpel` root; default process.cwd(). */
  cwd?: string | undefined;
  env?: NodeJS.ProcessEnv;
}

/** The cache root: --cache-dir, else $SCALPEL_CACHE_DIR, else `<cwd>/.scalpel`. */
export function resolveCacheRoot(opts: CacheRootOptions = {}): string {
  const cwd = opts.cwd ?? process.cwd();
  const env = opts.env ?? process.env;
  if (opts.cacheDir !== undefined && opts.cacheDir !== '') return resolve(cwd, opts.cacheDir);
  const fromEnv = env['SCALPEL_CACHE_DIR'];
  if (fromEnv !== undefined && fromEnv !== '') return resolve(cwd, fromEnv);
  return resolve(cwd, '.scalpel');
}

const HASH_RE = /^[0-9a-f]{64}$/;
const TMP_RE = /^([0-9a-f]{64})-(\d+)-([0-9a-f]+)(?:-old)?$/;
const LEASE_SUFFIX = '.lease';

function leaseOf(tmpDir: string): string {
  return tmpDir + LEASE_SUFFIX;
}

function listFiles(dir: string, prefix = ''): { path: string; size: number }[] {
  const out: { path: string; size: number }[] = [];
  for (const name of readdirSync(dir).sort()) {
    const rel = prefix === '' ? name : `${prefix}/${name}`;
    const abs = join(dir, name);
    const st = lstatSync(abs);
    if (st.isDirectory()) out.push(...listFiles(abs, rel));
    else if (st.isFile()) out.push({ path: rel, size: st.size });
    else {
      throw new ScalpelError(
        ErrorCode.Io,
        `stage output '${rel}' is not a regular file or directory`,
        {
          hint: 'stages must write plain files into ctx.outDir (no symlinks, sockets or pipes)',
        },
      );
    }
  }
  return out;
}

function fsyncFile(path: string): void {
  const fd = openSync(path, 'r');
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

function isEntryFile(f: unknown): f is EntryFile {
  if (typeof f !== 'object' || f === null) return false;
  const e = f as Partial<EntryFile>;
  return typeof e.path === 'string' && typeof e.size === 'number' && typeof e.sha256 === 'string';
}

function parseMeta(text: string, hash: string): EntryMeta | undefined {
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch {
    return undefined;
  }
  if (typeof v !== 'object' || v === null) return undefined;
  const m = v as Partial<EntryMeta>;
  if (m.format !== ENTRY_FORMAT || m.hash !== hash || typeof m.kind !== 'string') return undefined;
  if (typeof m.stageType !== 'string' || typeof m.stageVersion !== 'string') return undefined;
  if (typeof m.manifest !== 'object' || m.manifest === null) return undefined;
  if (typeof m.metrics !== 'object' || m.metrics === null) return undefined;
  if (!Array.isArray(m.files) || !m.files.every(isEntryFile)) return undefined;
  return m as EntryMeta;
}

export class Cache {
  readonly root: string;
  readonly entriesDir: string;
  readonly tmpDir: string;

  constructor(root: string) {
    this.root = root;
    this.entriesDir = join(root, 'cache');
    this.tmpDir = join(root, 'tmp');
  }

  entryDir(hash: string): string {
    return join(this.entriesDir, hash);
  }

  /**
   * A per-node directory that survives an interrupted run (resumable training checkpoints): the
   * same hash gets the same directory next time. The stage creates it if it uses it; the engine
   * removes it once the node's entry is committed.
   */
  scratchDir(hash: string): string {
    if (!HASH_RE.test(hash))
      throw new ScalpelError(ErrorCode.Internal, `not a node hash: '${hash}'`);
    return join(this.root, 'scratch', hash);
  }

  /** The complete entry for `hash`, or undefined. Anything incomplete or inconsistent is a miss. */
  lookup(hash: string): CacheEntry | undefined {
    if (!HASH_RE.test(hash)) return undefined;
    const dir = this.entryDir(hash);
    let text: string;
    try {
      text = readFileSync(join(dir, ENTRY_FILE), 'utf8');
    } catch {
      return undefined;
    }
    const meta = parseMeta(text, hash);
    if (meta === undefined) return undefined;
    const outDir = join(dir, OUT_DIR);
    if (quickFilesProblem(outDir, meta.files) !== undefined) return undefined;
    return { hash, dir, outDir, meta };
  }

  /**
   * Why the entry of `hash` exists but cannot be used (a file missing, resized or, with
   * `content`, modified), or undefined when it is sound or simply absent. For warnings.
   */
  async problem(hash: string, opts: { content?: boolean } = {}): Promise<string | undefined> {
    if (!HASH_RE.test(hash)) return undefined;
    let text: string;
    try {
      text = readFileSync(join(this.entryDir(hash), ENTRY_FILE), 'utf8');
    } catch {
      return undefined;
    }
    const meta = parseMeta(text, hash);
    if (meta === undefined) return undefined; // another entry format, or a torn entry.json
    const outDir = join(this.entryDir(hash), OUT_DIR);
    return opts.content === true
      ? filesContentProblem(outDir, meta.files)
      : quickFilesProblem(outDir, meta.files);
  }

  /** Re-hash the entry's files against entry.json: undefined when intact, else what changed. */
  verify(entry: CacheEntry): Promise<string | undefined> {
    return filesContentProblem(entry.outDir, entry.meta.files);
  }

  /** Hashes of all complete entries. */
  list(): string[] {
    if (!existsSync(this.entriesDir)) return [];
    return readdirSync(this.entriesDir).filter((h) => this.lookup(h) !== undefined);
  }

  /** A fresh private directory for building the entry of `hash`. */
  begin(hash: string): PendingEntry {
    if (!HASH_RE.test(hash))
      throw new ScalpelError(ErrorCode.Internal, `not a node hash: '${hash}'`);
    mkdirSync(this.tmpDir, { recursive: true });
    const tmpDir = join(this.tmpDir, `${hash}-${process.pid}-${randomBytes(6).toString('hex')}`);
    // The lease first: a temp directory without one is never work in progress.
    acquireLease(leaseOf(tmpDir));
    const outDir = join(tmpDir, OUT_DIR);
    mkdirSync(outDir, { recursive: true });
    return { hash, tmpDir, outDir };
  }

  /** Throw away an entry under construction (failed or interrupted stage). */
  discard(p: PendingEntry): void {
    rmSync(p.tmpDir, { recursive: true, force: true });
    releaseLease(leaseOf(p.tmpDir));
  }

  /**
   * Make the pending entry visible. If a complete entry already exists (a concurrent run won the
   * race), ours is discarded and theirs returned, unless `overwrite` (--no-cache/--force).
   */
  commit(p: PendingEntry, info: EntryInfo, opts: { overwrite?: boolean } = {}): CacheEntry {
    const files: EntryFile[] = listFiles(p.outDir).map((f) => {
      const abs = join(p.outDir, f.path);
      fsyncFile(abs);
      // Read-only before the entry becomes visible: a record's hard link to it cannot be edited
      // by mistake (a deliberate chmod + edit is caught by verify on the next hit).
      makeReadOnly(abs);
      return { ...f, sha256: sha256FileChunkedSync(abs) };
    });
    const meta: EntryMeta = {
      format: ENTRY_FORMAT,
      hash: p.hash,
      ...info,
      created: new Date().toISOString(),
      files,
    };
    // entry.json last: its presence (and validity) is what makes the directory an entry.
    const fd = openSync(join(p.tmpDir, ENTRY_FILE), 'wx');
    try {
      writeSync(fd, JSON.stringify(meta, null, 2) + '\n');
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    makeReadOnly(join(p.tmpDir, ENTRY_FILE));
    fsyncDir(p.outDir);
    fsyncDir(p.tmpDir);
    mkdirSync(this.entriesDir, { recursive: true });
    const final = this.entryDir(p.hash);
    for (let attempt = 0; ; attempt++) {
      try {
        renameSync(p.tmpDir, final);
        fsyncDir(this.entriesDir);
        releaseLease(leaseOf(p.tmpDir));
        return { hash: p.hash, dir: final, outDir: join(final, OUT_DIR), meta };
      } catch (e) {
        const code = (e as NodeJS.ErrnoException).code;
        if (code !== 'ENOTEMPTY' && code !== 'EEXIST' && code !== 'EPERM') throw e;
        if (attempt >= 5) throw e;
        const existing = this.lookup(p.hash);
        if (existing !== undefined && opts.overwrite !== true) {
          this.discard(p);
          return existing;
        }
        // Move the old (or invalid) entry aside atomically, then retry; another process may do
        // the same at the same moment, hence the loop.
        const aside = join(
          this.tmpDir,
          `${p.hash}-${process.pid}-${randomBytes(6).toString('hex')}-old`,
        );
        try {
          renameSync(final, aside);
        } catch (e2) {
          if ((e2 as NodeJS.ErrnoException).code !== 'ENOENT') throw e2;
        }
        rmSync(aside, { recursive: true, force: true });
      }
    }
  }

  /**
   * Remove temp directories whose lease is stale (owner dead on this host, or no heartbeat within
   * the TTL) or missing, and orphaned lease files. Returns how many directories were removed.
   */
  cleanStale(): number {
    if (!existsSync(this.tmpDir)) return 0;
    let removed = 0;
    const names = readdirSync(this.tmpDir);
    const present = new Set(names);
    for (const name of names) {
      const abs = join(this.tmpDir, name);
      if (name.endsWith(LEASE_SUFFIX)) {
        const dirName = name.slice(0, -LEASE_SUFFIX.length);
        // A lease is written before its directory: only a stale one may lack it.
        if (!present.has(dirName) && leaseState(abs) === 'stale') rmSync(abs, { force: true });
        continue;
      }
      if (!TMP_RE.test(name)) continue;
      const state = leaseState(leaseOf(abs));
      if (state === 'mine' || state === 'live') continue;
      rmSync(abs, { recursive: true, force: true });
      rmSync(leaseOf(abs), { force: true });
      removed++;
    }
    return removed;
  }
}
