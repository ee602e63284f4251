// The sweep directory `sweeps/<name>-<ts>/`: sweep.json (identity and status, for resuming),
// trials.jsonl (one line per finished trial, appended and fsync'd as trials finish, so a killed
// sweep keeps every trial it completed), results.csv / results.json (a flat table), lock.json,
// summary.json, sweep.resolved.yaml and events.jsonl.
import { closeSync, existsSync, fsyncSync, openSync, readFileSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { stringify } from 'csv-stringify/sync';
import { writeFileAtomicSync } from '../util/atomic-file.js';
import { RecordDir } from '../engine/record-dir.js';
import { isObject } from '../util/is-object.js';
import type { SerializedError } from '../errors.js';

export const SWEEP_FORMAT = 1;

export type TrialStatus = 'ok' | 'failed';

export interface TrialNodeRecord {
  readonly uses: string;
  readonly hash: string;
  readonly needs: readonly string[];
  /** The stage's `with` as validated (defaults filled). */
  readonly params: Readonly<Record<string, unknown>>;
  /** ran | cached | failed | skipped (as the scheduler saw it in this sweep). */
  readonly status: string;
  /** Wall time of the node in this sweep (0 for nodes another trial ran). */
  readonly durationMs: number;
  /** How long the stage took when it was computed (from its cache entry). */
  readonly computeMs?: number;
}

export interface TrialRecord {
  readonly index: number;
  readonly parameters: Readonly<Record<string, unknown>>;
  readonly repeat: number;
  readonly seed: number;
  readonly overrides: readonly string[];
  readonly status: TrialStatus;
  readonly startedAt: string;
  readonly finishedAt: string;
  readonly durationMs: number;
  readonly nodes: Readonly<Record<string, TrialNodeRecord>>;
  /** Stage id → the metrics it reported. */
  readonly metrics: Readonly<Record<string, unknown>>;
  readonly error?: SerializedError;
}

export type SweepStatus = 'running' | 'ok' | 'failed' | 'interrupted';

export interface SweepState {
  readonly format: number;
  readonly name: string;
  readonly fingerprint: string;
  readonly file: string;
  readonly recipeFile: string;
  readonly trials: number;
  readonly status: SweepStatus;
  /** Process currently working on the sweep (while status is running). */
  readonly pid: number;
  /** Host of that process (host-id.ts); absent in sweeps written before leases. */
  readonly host?: string;
  readonly createdAt: string;
  readonly updatedAt: string;
}

/** Parse trials.jsonl; a torn last line (process killed mid-write) is ignored. */
export function parseTrialsJsonl(text: string): TrialRecord[] {
  const out: TrialRecord[] = [];
  for (const line of text.split('\n')) {
    if (line.trim() === '') continue;
    let v: unknown;
    try {
      v = JSON.parse(line);
    } catch {
      continue;
    }
    if (
      isObject(v) &&
      typeof v['index'] === 'number' &&
      (v['status'] === 'ok' || v['status'] === 'failed')
    ) {
      out.push(v as unknown as TrialRecord);
    }
  }
  return out;
}

/** Flatten a stage's metrics to `key`/`a.b` columns (per-layer tables and curves stay in JSON). */
export function flattenMetrics(
  metrics: unknown,
  prefix: string,
  out: Record<string, unknown>,
): void {
  if (!isObject(metrics)) return;
  for (const [k, v] of Object.entries(metrics)) {
    if (k === 'layers' || k === 'curve' || Array.isArray(v)) continue;
    const key = `${prefix}.${k}`;
    if (isObject(v)) flattenMetrics(v, key, out);
    else out[key] = v;
  }
}

export class SweepRecord extends RecordDir {
  readonly trialsFile: string;
  readonly stateFile: string;

  constructor(dir: string) {
    super(dir);
    this.trialsFile = join(dir, 'trials.jsonl');
    this.stateFile = join(dir, 'sweep.json');
  }

  readState(): SweepState | undefined {
    if (!existsSync(this.stateFile)) return undefined;
    try {
      const v = JSON.parse(readFileSync(this.stateFile, 'utf8')) as unknown;
      return isObject(v) && v['format'] === SWEEP_FORMAT && typeof v['fingerprint'] === 'string'
        ? (v as unknown as SweepState)
        : undefined;
    } catch {
      return undefined;
    }
  }

  writeState(state: SweepState): void {
    this.writeJson('sweep.json', state);
  }

  readTrials(): TrialRecord[] {
    if (!existsSync(this.trialsFile)) return [];
    return parseTrialsJsonl(readFileSync(this.trialsFile, 'utf8'));
  }

  /** Replace trials.jsonl by these records (resume keeps only finished trials). */
  resetTrials(records: readonly TrialRecord[]): void {
    writeFileAtomicSync(this.trialsFile, records.map((r) => JSON.stringify(r) + '\n').join(''));
  }

  /** Append one record and fsync, so it survives a SIGKILL right after. */
  appendTrial(record: TrialRecord): void {
    const fd = openSync(this.trialsFile, 'a');
    try {
      const buf = Buffer.from(JSON.stringify(record) + '\n', 'utf8');
      let off = 0;
      while (off < buf.length) off += writeSync(fd, buf, off, buf.length - off);
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
  }

  /** results.json and results.csv: one row per trial, parameters and flattened metrics as columns. */
  writeResults(
    name: string,
    parameterNames: readonly string[],
    records: readonly TrialRecord[],
  ): void {
    const sorted = [...records].sort((a, b) => a.index - b.index);
    const rows = sorted.map((r) => {
      const row: Record<string, unknown> = {
        trial: r.index,
        repeat: r.repeat,
        seed: r.seed,
        status: r.status,
      };
      for (const p of parameterNames) row[p] = r.parameters[p];
      row['durationMs'] = r.durationMs;
      for (const [stageId, m] of Object.entries(r.metrics)) flattenMetrics(m, stageId, row);
      return row;
    });
    const columns: string[] = [];
    for (const row of rows)
      for (const k of Object.keys(row)) if (!columns.includes(k)) columns.push(k);
    this.writeJson('results.json', { name, columns, rows });
    const cell = (v: unknown): string | number | boolean =>
      v === undefined || v === null
        ? ''
        : typeof v === 'object'
          ? JSON.stringify(v)
          : (v as string | number | boolean);
    const csv = stringify([columns, ...rows.map((row) => columns.map((c) => cell(row[c])))]);
    writeFileAtomicSync(join(this.dir, 'results.csv'), csv);
  }
}
