// summary.json of a run record: written when the run starts (status `running`, the pid of the
// process doing it), rewritten as nodes finish and once more at the end (ok, failed or
// interrupted). A run killed with SIGKILL never reaches the end, so its record keeps saying
// `running` with a pid that no longer exists: readers (compare, report) tell such a record from
// one still at work with `recordState` and skip it instead of failing on its missing files.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { SerializedError } from '../errors.js';
import { isObject } from '../util/is-object.js';
import { isAlive } from '../util/process-alive.js';

export const SUMMARY_FILE = 'summary.json';

/** One node as summary.json lists it. */
export interface SummaryNodeJson {
  readonly id: string;
  readonly uses: string;
  readonly hash: string;
  /** pending (not finished yet) | ran | cached | failed | skipped | interrupted */
  readonly status: string;
  readonly durationMs: number;
  readonly error?: SerializedError;
  readonly skippedBecause?: string;
}

export interface SummaryJson {
  readonly status: 'running' | 'ok' | 'failed' | 'interrupted';
  /** The process running it (while status is running). */
  readonly pid?: number;
  readonly startedAt: string;
  readonly finishedAt?: string;
  readonly durationMs?: number;
  /** The cache root the run used (absolute: it names this machine's cache, not the recipe). */
  readonly cache: string;
  readonly error?: SerializedError;
  readonly nodes: readonly SummaryNodeJson[];
}

/** What a reader should make of a record, from its summary.json. */
export type RecordState =
  | { readonly state: 'finished'; readonly status: string }
  | { readonly state: 'running'; readonly pid: number }
  /** Status `running` but its process is gone: killed (SIGKILL, power loss) before the end. */
  | { readonly state: 'killed'; readonly pid: number | undefined }
  /** No summary.json (a record of an older scalpel that died before the end, or not a record). */
  | { readonly state: 'unknown' };

/** The state of the run record (or sweep directory's summary) in `dir`. */
export function recordState(dir: string, file = SUMMARY_FILE): RecordState {
  let doc: unknown;
  try {
    doc = JSON.parse(readFileSync(join(dir, file), 'utf8'));
  } catch {
    return { state: 'unknown' };
  }
  if (!isObject(doc) || typeof doc['status'] !== 'string') return { state: 'unknown' };
  if (doc['status'] !== 'running') return { state: 'finished', status: doc['status'] };
  const pid = typeof doc['pid'] === 'number' ? doc['pid'] : undefined;
  // A pid may be reused by an unrelated process after a crash; then the record looks running
  // until that process ends. Erring that way only skips the record a little longer.
  if (pid !== undefined && isAlive(pid)) return { state: 'running', pid };
  return { state: 'killed', pid };
}
