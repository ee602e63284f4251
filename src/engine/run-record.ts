// The run directory `runs/<name>-<YYYYMMDD-HHMMSS>/` (or --out): recipe.resolved.yaml, lock.json,
// metrics.json, summary.json, events.jsonl and artifacts/<stageId>/ (hard links into the cache's
// read-only files, copies where links are impossible). Record files are written atomically; an
// artifacts folder is assembled under a temp name and renamed, so nothing is ever half-written.
// Nothing in recipe.resolved.yaml or lock.json names the checkout's absolute location: paths are
// relative to the record directory, so a record copied with its checkout still runs and compares.
import {
  constants,
  copyFileSync,
  existsSync,
  linkSync,
  mkdirSync,
  readFileSync,
  readdirSync,
  renameSync,
  rmSync,
} from 'node:fs';
import { randomBytes } from 'node:crypto';
import { dirname, isAbsolute, join, relative, resolve, sep } from 'node:path';
import YAML from 'yaml';
import { ErrorCode, ScalpelError } from '../errors.js';
import { sha256FileSync } from '../util/file-hash.js';
import { packageRoot, scalpelVersion } from '../util/package-root.js';
import { RecordDir } from './record-dir.js';

/** `20250131-235959` in local time. */
export function timestamp(d: Date): string {
  const p = (n: number): string => String(n).padStart(2, '0');
  return `${d.getFullYear()}${p(d.getMonth() + 1)}${p(d.getDate())}-${p(d.getHours())}${p(d.getMinutes())}${p(d.getSeconds())}`;
}

function isEmptyDir(dir: string): boolean {
  return readdirSync(dir).length === 0;
}

/** Create the run directory: `out` if given (must be new or empty), else a fresh one under runsDir. */
export function createRunDir(opts: {
  out?: string | undefined;
  runsDir: string;
  name: string;
  now: Date;
}): string {
  if (opts.out !== undefined) {
    const dir = resolve(opts.out);
    if (existsSync(dir) && !isEmptyDir(dir)) {
      throw new ScalpelError(ErrorCode.Io, `output directory '${dir}' exists and is not empty`, {
        hint: 'choose a new --out directory, or delete this one',
      });
    }
    mkdirSync(dir, { recursive: true });
    return dir;
  }
  mkdirSync(opts.runsDir, { recursive: true });
  const base = `${opts.name}-${timestamp(opts.now)}`;
  for (let i = 1; ; i++) {
    const dir = join(opts.runsDir, i === 1 ? base : `${base}-${i}`);
    try {
      mkdirSync(dir); // not recursive: fails if it exists, so two runs never share a directory
      return dir;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST' || i > 1000) throw e;
    }
  }
}

/** Versions of the packages scalpel depends on, as installed (node_modules, walking up). */
export function dependencyVersions(): Record<string, string> {
  const pkg = JSON.parse(readFileSync(join(packageRoot, 'package.json'), 'utf8')) as {
    dependencies?: Record<string, string>;
    optionalDependencies?: Record<string, string>;
  };
  const names = [
    ...Object.keys(pkg.dependencies ?? {}),
    ...Object.keys(pkg.optionalDependencies ?? {}),
  ];
  const out: Record<string, string> = {};
  for (const name of names.sort()) {
    for (let dir = packageRoot; ; dir = dirname(dir)) {
      const file = join(dir, 'node_modules', name, 'package.json');
      if (existsSync(file)) {
        const v = (JSON.parse(readFileSync(file, 'utf8')) as { version?: unknown }).version;
        if (typeof v === 'string') out[name] = v;
        break;
      }
      if (dirname(dir) === dir) break; // not installed (an optional dependency)
    }
  }
  return out;
}

/**
 * `target` as seen from directory `from`, with forward slashes (records are shared between
 * machines): relative when one exists, else absolute (another Windows drive).
 */
export function recordPath(from: string, target: string): string {
  const rel = relative(from, target);
  if (rel === '') return '.';
  if (isAbsolute(rel)) return target;
  return rel.split(sep).join('/');
}

/**
 * The head of a run's or sweep's lock.json: what produced it, on what, from which recipe. The
 * recipe file is named relative to `recordDir`, so the lock does not depend on where the
 * checkout lies.
 */
export function environmentLock(
  backend: unknown,
  seed: number,
  recipeFile: string,
  recordDir: string,
): Record<string, unknown> {
  return {
    scalpel: scalpelVersion(),
    node: process.version,
    platform: process.platform,
    arch: process.arch,
    backend,
    dependencies: dependencyVersions(),
    seed,
    recipe: { file: recordPath(recordDir, recipeFile), sha256: sha256FileSync(recipeFile) },
  };
}

/**
 * recipe.resolved.yaml: the resolved recipe with `baseDir` pointing (relative to the record) at
 * the directory its relative paths were resolved against. Every path-bearing parameter (a stage's
 * `path`, `files`, `tokenizer`, `to`, a plugin stage's own paths, `plugins:`) stays spelled as
 * written, so the node hashes of `scalpel run <record>/recipe.resolved.yaml` equal the original
 * run's and the cache serves them.
 */
export function resolvedRecipeYaml(
  resolved: Readonly<Record<string, unknown>>,
  recipeDir: string,
  recordDir: string,
): string {
  const base = recordPath(recordDir, recipeDir);
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(resolved)) {
    if (k === 'baseDir') continue;
    out[k] = v;
    if (k === 'backend') out['baseDir'] = base; // beside the other top-level settings
  }
  out['baseDir'] ??= base;
  const doc = new YAML.Document(out);
  doc.commentBefore =
    ' The recipe as it ran, defaults filled in. Relative paths are relative to baseDir, which is\n' +
    ' relative to this file: `scalpel run <this file>` runs it again (cache hits included).';
  return doc.toString();
}

/**
 * Place every file of `src` (a cache entry's out/) into a new directory `dest` without copying
 * bytes where the filesystem allows: a reflink (btrfs, XFS, APFS: a private copy-on-write copy,
 * so editing it cannot touch the cache), else a hard link (the cache's file is read-only and
 * re-hashed on every hit), else a plain copy (another filesystem, links not permitted).
 */
function linkTree(src: string, dest: string): void {
  mkdirSync(dest, { recursive: true });
  for (const ent of readdirSync(src, { withFileTypes: true })) {
    const s = join(src, ent.name);
    const d = join(dest, ent.name);
    if (ent.isDirectory()) linkTree(s, d);
    else if (ent.isFile()) placeFile(s, d);
  }
}

function placeFile(s: string, d: string): void {
  try {
    copyFileSync(s, d, constants.COPYFILE_FICLONE_FORCE);
    return;
  } catch {
    // no reflinks here (ext4, tmpfs, overlayfs…)
  }
  try {
    linkSync(s, d);
  } catch {
    copyFileSync(s, d);
  }
}

export class RunRecord extends RecordDir {
  readonly artifactsDir: string;

  constructor(dir: string) {
    super(dir);
    this.artifactsDir = join(dir, 'artifacts');
  }

  /** Publish a stage's files as artifacts/<stageId>/. */
  linkArtifacts(stageId: string, from: string): void {
    mkdirSync(this.artifactsDir, { recursive: true });
    const tmp = join(this.artifactsDir, `.${stageId}.${randomBytes(4).toString('hex')}.tmp`);
    const final = join(this.artifactsDir, stageId);
    try {
      linkTree(from, tmp);
      rmSync(final, { recursive: true, force: true });
      renameSync(tmp, final);
    } finally {
      rmSync(tmp, { recursive: true, force: true });
    }
  }
}
