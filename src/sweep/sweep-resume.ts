// Resuming: a sweep directory records the sweep's fingerprint (its trials' node hashes) and its
// status. Running the same command again picks the newest unfinished directory with the same
// fingerprint; `--resume <dir>` names one. Trials recorded as ok are kept; the rest run again,
// and whatever they share with finished work comes from the cache. A sweep at work holds a lease
// in its directory (running.lease, cache-lease.ts), so a coordinator on another host sharing the
// directory is judged by its heartbeat, never by a process id that means nothing here.
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { ErrorCode, ScalpelError } from '../errors.js';
import { leaseState } from '../engine/cache-lease.js';
import { SweepRecord, type SweepState } from './sweep-record.js';

/** The lease a running sweep holds in its directory. */
export function sweepLeaseFile(dir: string): string {
  return join(dir, 'running.lease');
}

/** True when another live process (on any host) is working on this sweep directory. */
export function inUse(state: SweepState, dir: string): boolean {
  return state.status === 'running' && leaseState(sweepLeaseFile(dir)) === 'live';
}

/** The newest unfinished sweep directory of `name` with this fingerprint, if any. */
export function findResumable(
  sweepsDir: string,
  name: string,
  fingerprint: string,
): string | undefined {
  if (!existsSync(sweepsDir)) return undefined;
  const candidates: { dir: string; created: string }[] = [];
  for (const entry of readdirSync(sweepsDir)) {
    if (!entry.startsWith(`${name}-`)) continue;
    const dir = join(sweepsDir, entry);
    if (!statSync(dir).isDirectory()) continue;
    const state = new SweepRecord(dir).readState();
    if (
      state === undefined ||
      state.fingerprint !== fingerprint ||
      state.status === 'ok' ||
      inUse(state, dir)
    )
      continue;
    candidates.push({ dir, created: state.createdAt });
  }
  candidates.sort((a, b) => (a.created < b.created ? 1 : a.created > b.created ? -1 : 0));
  return candidates[0]?.dir;
}

/** Check that `dir` holds this sweep and nobody else is running it. */
export function checkResumeDir(dir: string, fingerprint: string): SweepRecord {
  const record = new SweepRecord(dir);
  if (!existsSync(dir)) {
    throw new ScalpelError(ErrorCode.Io, `--resume: no directory ${dir}`, {
      hint: 'pass a directory under sweeps/ written by scalpel sweep',
    });
  }
  const state = record.readState();
  if (state === undefined) {
    throw new ScalpelError(
      ErrorCode.Sweep,
      `--resume: ${dir} is not a sweep directory (no readable sweep.json)`,
      {
        hint: 'pass a directory under sweeps/ written by scalpel sweep',
      },
    );
  }
  if (state.fingerprint !== fingerprint) {
    throw new ScalpelError(
      ErrorCode.Sweep,
      `--resume: ${dir} holds a different sweep ('${state.name}', ${state.trials} trials from ${state.file})`,
      {
        hint: 'the recipe, the sweep spec, --set values or an input file changed since; run without --resume to start a new sweep',
      },
    );
  }
  if (inUse(state, dir)) {
    throw new ScalpelError(
      ErrorCode.Sweep,
      `--resume: process ${state.pid}${state.host !== undefined ? ` on ${state.host}` : ''} is still running this sweep`,
      {
        hint: 'wait for it to finish, or stop it first',
      },
    );
  }
  return record;
}
