// What one node's job carries through Redis, and the names a sweep uses there. A job is
// self-contained and host-neutral: the recipe's text (and its sha256, checked by the worker), the
// --set strings of the trial, the node hash and its inputs' hashes, the backend the hashes assume,
// the scalpel version and the recipe's plugins. No path of the coordinator's machine travels:
// files the recipe names resolve on the worker against its --plugins directory, and the stage's
// data comes and goes through the shared cache.
import { createHash } from 'node:crypto';
import { ErrorCode, ScalpelError } from '../errors.js';
import type { BackendChoice } from '../recipe/types.js';
import { isObject } from '../util/is-object.js';

export const JOB_FORMAT = 2;

/** BullMQ key prefix and the one queue every sweep's nodes go through (see docs/distributed.md). */
export const KEY_PREFIX = 'scalpel';
export const QUEUE_NAME = 'nodes';

export interface RecipeSource {
  /** File name of the recipe (for messages and the worker's copy). */
  readonly name: string;
  readonly text: string;
  readonly sha256: string;
  /**
   * The recipe's base directory relative to the coordinator's working directory ('' = the same),
   * POSIX slashes: a worker resolves it against its own copy of that directory (--plugins), so
   * `scalpel sweep recipes/x.yaml` run from a project root finds `../assets/…` on the worker too.
   */
  readonly baseDir: string;
}

export interface NodeJobPayload {
  readonly format: number;
  readonly sweepId: string;
  readonly scalpelVersion: string;
  readonly recipe: RecipeSource;
  readonly set: readonly string[];
  readonly hash: string;
  readonly inputs: readonly string[];
  /** The node's first stage id and type (for messages, progress and status). */
  readonly stageId: string;
  readonly uses: string;
  /** Trial indices whose graph holds this node. */
  readonly trials: readonly number[];
  /** --backend of the sweep, if any. */
  readonly backend: BackendChoice | undefined;
  /** The backend name the node hashes were computed for. */
  readonly plannedBackend: string;
  /** The recipe's plugins: entries. */
  readonly plugins: readonly string[];
  /** Identity of the coordinator's cache root (cache-identity.ts): the worker must share it. */
  readonly cacheId: string;
  readonly overwrite: boolean;
}

/** What a worker's job returns (BullMQ stores it as the job's return value). */
export interface NodeJobResult {
  readonly status: 'ran' | 'cached';
  readonly host: string;
  readonly pid: number;
}

/** What workers send with job.updateProgress. */
export type NodeJobProgress =
  | {
      readonly type: 'start';
      readonly host: string;
      readonly pid: number;
      readonly attempt: number;
    }
  | {
      readonly type: 'progress';
      readonly stageId: string;
      readonly label: string;
      readonly done: number;
      readonly total: number;
    };

export function sha256Text(text: string): string {
  return createHash('sha256').update(text, 'utf8').digest('hex');
}

/** A sweep's id in Redis: derived from its fingerprint, so the same command finds its own jobs. */
export function sweepIdOf(fingerprint: string): string {
  return `sw${fingerprint.slice(0, 16)}`;
}

/** Job ids are sweep + node hash: adding a node twice is a no-op, two sweeps never collide. */
export function jobIdOf(sweepId: string, hash: string): string {
  return `${sweepId}-${hash}`;
}

/** The sweep a job id belongs to, or undefined for ids that are not ours. */
export function sweepIdOfJob(jobId: string): string | undefined {
  const m = /^(sw[0-9a-f]{16})-[0-9a-f]{64}$/.exec(jobId);
  return m?.[1];
}

export function abandonKey(sweepId: string): string {
  return `${KEY_PREFIX}:sweep:${sweepId}:abandon`;
}

export function manifestKey(sweepId: string): string {
  return `${KEY_PREFIX}:sweep:${sweepId}:manifest`;
}

/** Hash of the sweep's nodes that were satisfied from the cache (no job was needed). */
export function cachedKey(sweepId: string): string {
  return `${KEY_PREFIX}:sweep:${sweepId}:cached`;
}

export const SWEEPS_KEY = `${KEY_PREFIX}:sweeps`;

function isStringArray(v: unknown): v is string[] {
  return Array.isArray(v) && v.every((x) => typeof x === 'string');
}

const BACKENDS = new Set(['auto', 'tensorflow', 'wasm', 'cpu']);

/** Check a job's data; anything malformed is a ScalpelError (the worker refuses the job). */
export function parsePayload(data: unknown): NodeJobPayload {
  const bad = (what: string): ScalpelError =>
    new ScalpelError(ErrorCode.Internal, `malformed scalpel job: ${what}`, {
      hint: 'was it queued by another program, or by a different scalpel version?',
    });
  if (!isObject(data)) throw bad('not an object');
  if (data['format'] !== JOB_FORMAT)
    throw bad(`job format ${String(data['format'])}, this worker reads format ${JOB_FORMAT}`);
  const r = data['recipe'];
  if (
    !isObject(r) ||
    typeof r['name'] !== 'string' ||
    typeof r['text'] !== 'string' ||
    typeof r['sha256'] !== 'string' ||
    typeof r['baseDir'] !== 'string'
  )
    throw bad('recipe');
  for (const k of [
    'sweepId',
    'scalpelVersion',
    'hash',
    'stageId',
    'uses',
    'plannedBackend',
    'cacheId',
  ])
    if (typeof data[k] !== 'string') throw bad(k);
  if (
    !isStringArray(data['set']) ||
    !isStringArray(data['inputs']) ||
    !isStringArray(data['plugins'])
  )
    throw bad('set, inputs or plugins');
  if (!Array.isArray(data['trials']) || !data['trials'].every((t) => typeof t === 'number'))
    throw bad('trials');
  const backend = data['backend'];
  if (
    backend !== undefined &&
    backend !== null &&
    !(typeof backend === 'string' && BACKENDS.has(backend))
  )
    throw bad('backend');
  if (typeof data['overwrite'] !== 'boolean') throw bad('overwrite');
  return data as unknown as NodeJobPayload;
}

const ERROR_MARK = 'scalpel-error:';

/** A job's failure reason carrying the serialized ScalpelError (BullMQ keeps only the message). */
export function encodeFailure(json: unknown): string {
  return ERROR_MARK + JSON.stringify(json);
}

/** The serialized error in a failure reason, or undefined for a reason of another origin. */
export function decodeFailure(reason: string): unknown {
  if (!reason.startsWith(ERROR_MARK)) return undefined;
  try {
    return JSON.parse(reason.slice(ERROR_MARK.length)) as unknown;
  } catch {
    return undefined;
  }
}
