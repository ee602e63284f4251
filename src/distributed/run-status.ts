// `scalpel sweep --status --redis URL [file]`: what the queue knows about each sweep registered
// in Redis (or the one sweep of `file`): per node queued / running / done / failed (or pending:
// its needs are not done yet, so it is not queued), and per trial the summary of its nodes.
import { Queue } from 'bullmq';
import { ErrorCode, ScalpelError } from '../errors.js';
import { isObject } from '../util/is-object.js';
import type { SweepManifest } from './coordinator.js';
import {
  KEY_PREFIX,
  QUEUE_NAME,
  SWEEPS_KEY,
  cachedKey,
  decodeFailure,
  jobIdOf,
  manifestKey,
} from './job-payload.js';
import { RedisClients } from './redis-connection.js';

export type NodeState = 'pending' | 'queued' | 'running' | 'done' | 'failed';

export interface NodeStatusRow {
  readonly hash: string;
  readonly stageId: string;
  readonly state: NodeState;
  readonly attempts: number;
  readonly error?: string;
}

export interface TrialStatusRow {
  readonly index: number;
  readonly state: NodeState;
  readonly nodes: Readonly<Record<NodeState, number>>;
}

export interface SweepStatusReport {
  readonly sweepId: string;
  readonly name: string;
  readonly createdAt: string;
  readonly nodes: readonly NodeStatusRow[];
  readonly trials: readonly TrialStatusRow[];
}

function stateOf(jobState: string | undefined): NodeState {
  switch (jobState) {
    case undefined:
    case 'unknown':
      return 'pending';
    case 'completed':
      return 'done';
    case 'failed':
      return 'failed';
    case 'active':
      return 'running';
    default:
      return 'queued';
  }
}

/** A trial is failed if a node failed, else running/queued/pending while any node is, else done. */
function trialState(counts: Record<NodeState, number>): NodeState {
  for (const s of ['failed', 'running', 'queued', 'pending'] as const) if (counts[s] > 0) return s;
  return 'done';
}

function parseManifest(text: string | null): SweepManifest | undefined {
  if (text === null) return undefined;
  try {
    const v = JSON.parse(text) as unknown;
    return isObject(v) && typeof v['sweepId'] === 'string' && isObject(v['nodes'])
      ? (v as unknown as SweepManifest)
      : undefined;
  } catch {
    return undefined;
  }
}

/** Status of the sweeps `sweepIds` (default: every sweep registered in this Redis). */
export async function readSweepStatus(
  redis: string,
  sweepIds?: readonly string[],
): Promise<SweepStatusReport[]> {
  const clients = new RedisClients(redis);
  const client = clients.create('status');
  const queue = new Queue(QUEUE_NAME, { connection: client, prefix: KEY_PREFIX });
  queue.on('error', () => {});
  try {
    await clients.ready(client);
    const ids = sweepIds ?? (await client.smembers(SWEEPS_KEY)).sort();
    const reports: SweepStatusReport[] = [];
    for (const id of ids) {
      const manifest = parseManifest(await client.get(manifestKey(id)));
      if (manifest === undefined) {
        if (sweepIds !== undefined)
          throw new ScalpelError(ErrorCode.Usage, `sweep ${id} is not known to this Redis`, {
            hint: 'it has not been started with --executor bullmq against this --redis (or it expired after 7 days)',
          });
        continue;
      }
      const cached = new Set(Object.keys(await client.hgetall(cachedKey(id))));
      const nodes: NodeStatusRow[] = [];
      for (const [hash, info] of Object.entries(manifest.nodes)) {
        const job = await queue.getJob(jobIdOf(id, hash));
        const state = cached.has(hash)
          ? 'done'
          : stateOf(job !== undefined ? await job.getState() : undefined);
        const decoded =
          job?.failedReason !== undefined ? decodeFailure(job.failedReason) : undefined;
        const error =
          state === 'failed'
            ? isObject(decoded) && typeof decoded['message'] === 'string'
              ? decoded['message']
              : job?.failedReason
            : undefined;
        nodes.push({
          hash,
          stageId: info.stageId,
          state,
          attempts: job?.attemptsMade ?? 0,
          ...(error !== undefined ? { error } : {}),
        });
      }
      const trials: TrialStatusRow[] = [];
      const indices = [...new Set(Object.values(manifest.nodes).flatMap((n) => n.trials))].sort(
        (a, b) => a - b,
      );
      for (const index of indices) {
        const counts: Record<NodeState, number> = {
          pending: 0,
          queued: 0,
          running: 0,
          done: 0,
          failed: 0,
        };
        for (const n of nodes)
          if (manifest.nodes[n.hash]?.trials.includes(index)) counts[n.state]++;
        trials.push({ index, state: trialState(counts), nodes: counts });
      }
      reports.push({
        sweepId: id,
        name: manifest.name,
        createdAt: manifest.createdAt,
        nodes,
        trials,
      });
    }
    return reports;
  } finally {
    await queue.close().catch(() => {});
    await clients.closeAll();
  }
}

/** The report as text: one line per trial, then the nodes that are not done. */
export function renderSweepStatus(reports: readonly SweepStatusReport[]): string {
  if (reports.length === 0) return 'no sweeps in this Redis';
  const out: string[] = [];
  for (const r of reports) {
    const byState = (s: NodeState): number => r.nodes.filter((n) => n.state === s).length;
    out.push(
      `sweep ${r.name} (${r.sweepId}, started ${r.createdAt}): nodes ${byState('done')} done, ${byState('running')} running, ${byState('queued')} queued, ${byState('pending')} pending, ${byState('failed')} failed`,
    );
    for (const t of r.trials) {
      const c = t.nodes;
      out.push(
        `  trial ${t.index}: ${t.state} (${c.done} done, ${c.running} running, ${c.queued} queued, ${c.pending} pending, ${c.failed} failed)`,
      );
    }
    for (const n of r.nodes) {
      if (n.state === 'done' || n.state === 'pending') continue;
      out.push(
        `  node ${n.stageId} ${n.hash.slice(0, 12)}: ${n.state}${n.attempts > 0 ? ` after ${n.attempts} attempt${n.attempts === 1 ? '' : 's'}` : ''}${n.error !== undefined ? ` — ${n.error}` : ''}`,
      );
    }
  }
  return out.join('\n');
}
