// The coordinator side of `scalpel sweep --executor bullmq`. The sweep schedules its merged graph
// as locally (engine/scheduler.ts keeps the ready-set: a node starts once its needs are done), but
// "executing" a node means adding its job to the shared queue and waiting for the job's outcome.
// Outcomes arrive as QueueEvents and are re-checked by a periodic reconciliation against the job
// states and the cache, which also covers what events cannot: a Redis restart that lost the jobs
// (re-added: ids are sweep + node hash, so adding is idempotent) and events missed while
// disconnected. Ctrl-C: nothing new is added, waiting jobs are removed and running ones are
// abandoned (workers poll the sweep's abandon key).
import { Queue, QueueEvents, type Job } from 'bullmq';
import { ErrorCode, ScalpelError, deserializeError, type SerializedError } from '../errors.js';
import type { Cache } from '../engine/cache.js';
import type { RunLogging } from '../engine/logging.js';
import type { ProgressSink } from '../engine/progress.js';
import type { Progress } from '../plugin-api/stage.js';
import { isObject } from '../util/is-object.js';
import {
  KEY_PREFIX,
  QUEUE_NAME,
  SWEEPS_KEY,
  abandonKey,
  cachedKey,
  decodeFailure,
  jobIdOf,
  manifestKey,
  type NodeJobPayload,
  type NodeJobResult,
} from './job-payload.js';
import { RedisClients, redactedUrl } from './redis-connection.js';
import { queueTiming } from './queue-timing.js';

export interface CoordinatorOptions {
  readonly redis: string;
  readonly sweepId: string;
  /** Retries of a failed stage (BullMQ attempts = retries + 1). */
  readonly retries: number;
  /** First retry delay (exponential backoff); default queueTiming().backoffMs. */
  readonly backoffMs?: number;
  /** How often job states are reconciled; default 1000 ms. */
  readonly reconcileMs?: number;
}

/** What `sweep --status` reads: the sweep's nodes and which trials hold them. */
export interface SweepManifest {
  readonly sweepId: string;
  readonly name: string;
  readonly trials: number;
  readonly createdAt: string;
  readonly nodes: Readonly<
    Record<string, { readonly stageId: string; readonly trials: readonly number[] }>
  >;
}

interface Pending {
  readonly payload: NodeJobPayload;
  readonly jobId: string;
  resolve(s: 'ran' | 'cached'): void;
  reject(e: unknown): void;
  attemptsSeen: number;
  checking: boolean;
  /** An add is under way: a missing job is not lost yet. */
  enqueuing: boolean;
  readonly progress: Map<string, Progress>;
}

type JobData = NodeJobPayload;

const MANIFEST_TTL_S = 7 * 24 * 3600;
/** How long outstanding jobs may wait without any worker connected before we say so. */
function noWorkerWarningMs(env: NodeJS.ProcessEnv = process.env): number {
  const v = Number(env['SCALPEL_NO_WORKER_WARNING_MS']);
  return Number.isFinite(v) && v > 0 ? v : 10_000;
}

function failureError(reason: string | undefined, stageId: string): ScalpelError {
  const decoded = decodeFailure(reason ?? '');
  if (
    isObject(decoded) &&
    typeof decoded['code'] === 'string' &&
    typeof decoded['message'] === 'string'
  )
    return deserializeError(decoded as unknown as SerializedError);
  return new ScalpelError(ErrorCode.Stage, `job failed: ${reason ?? 'no reason given'}`, {
    stageId,
  });
}

function resultOf(v: unknown): NodeJobResult | undefined {
  if (typeof v === 'string') {
    try {
      return resultOf(JSON.parse(v));
    } catch {
      return undefined;
    }
  }
  return isObject(v) && (v['status'] === 'ran' || v['status'] === 'cached')
    ? (v as unknown as NodeJobResult)
    : undefined;
}

export class Coordinator {
  private readonly opts: CoordinatorOptions;
  private readonly clients: RedisClients;
  private readonly queue: Queue<JobData, NodeJobResult>;
  private events: QueueEvents | undefined;
  private readonly command: ReturnType<RedisClients['create']>;
  private readonly pending = new Map<string, Pending>();
  private logging: RunLogging | undefined;
  private progress: ProgressSink | undefined;
  private cache: Cache | undefined;
  private timer: NodeJS.Timeout | undefined;
  private aborted = false;
  private aborting: Promise<void> | undefined;
  private noWorkerSince: number | undefined;
  private warnedNoWorker = false;

  private constructor(opts: CoordinatorOptions, clients: RedisClients) {
    this.opts = opts;
    this.clients = clients;
    this.command = clients.create('coordinator');
    this.queue = new Queue<JobData, NodeJobResult>(QUEUE_NAME, {
      connection: this.command,
      prefix: KEY_PREFIX,
    });
    this.queue.on('error', () => {}); // connection losses: waited out by ioredis
  }

  /** Connect (a clear error when Redis is unreachable); nothing is written to Redis yet. */
  static async connect(opts: CoordinatorOptions): Promise<Coordinator> {
    const clients = new RedisClients(opts.redis);
    const c = new Coordinator(opts, clients);
    try {
      await clients.ready(c.command);
    } catch (e) {
      // Queue.close would wait for a connection that never comes: just drop the clients.
      await clients.closeAll();
      throw e;
    }
    return c;
  }

  get redisUrl(): string {
    return redactedUrl(this.clients.url);
  }

  /** Start: register the sweep for `--status`, listen to events, reconcile periodically. */
  async start(
    manifest: SweepManifest,
    env: { logging: RunLogging; progress: ProgressSink; cache: Cache },
  ): Promise<void> {
    this.logging = env.logging;
    this.progress = env.progress;
    this.cache = env.cache;
    const id = this.opts.sweepId;
    await this.command.del(abandonKey(id), cachedKey(id)); // a rerun takes the sweep up afresh
    await this.command.set(manifestKey(id), JSON.stringify(manifest), 'EX', MANIFEST_TTL_S);
    await this.command.sadd(SWEEPS_KEY, id);
    // Read events from the stream's current end, not from the moment the reader first blocks:
    // a job queued in between could otherwise report before we listen.
    const stream = this.queue.keys.events ?? this.queue.toKey('events');
    const last = await this.command.xrevrange(stream, '+', '-', 'COUNT', 1);
    const events = new QueueEvents(QUEUE_NAME, {
      connection: this.clients.create('coordinator-events'),
      prefix: KEY_PREFIX,
      autorun: false,
      lastEventId: last[0]?.[0] ?? '0-0',
    });
    this.events = events;
    events.on('error', () => {});
    const ours = (jobId: string): Pending | undefined => this.pending.get(jobId);
    // A retry shows as the job going back to delayed (backoff) or waiting.
    events.on('delayed', ({ jobId }) => this.check(ours(jobId)));
    events.on('waiting', ({ jobId }) => this.check(ours(jobId)));
    events.on('completed', ({ jobId, returnvalue }) => {
      const p = ours(jobId);
      const r = resultOf(returnvalue);
      if (p !== undefined && r !== undefined) this.settle(p, undefined, r);
      else this.check(p);
    });
    events.on('failed', ({ jobId }) => this.check(ours(jobId)));
    events.on('removed', ({ jobId }) => this.check(ours(jobId)));
    events.on('stalled', ({ jobId }) => {
      const p = ours(jobId);
      if (p === undefined) return;
      this.event(p, 'node-stalled', {});
      this.logging?.logger.warn(
        `'${p.payload.stageId}': its worker stopped answering; the job goes to another worker`,
        { stageId: p.payload.stageId },
      );
    });
    events.on('progress', ({ jobId, data }) => this.onProgress(ours(jobId), data));
    void events.run().catch(() => {});
    await events.waitUntilReady();
    this.timer = setInterval(() => this.reconcile(), this.opts.reconcileMs ?? 1000);
    this.timer.unref();
  }

  private event(p: Pending, type: string, data: Record<string, unknown>): void {
    this.logging?.event(p.payload.stageId, type, { hash: p.payload.hash, jobId: p.jobId, ...data });
  }

  /** Record (for --status) that a node of the sweep came from the cache without a job. */
  noteCached(hash: string): void {
    const key = cachedKey(this.opts.sweepId);
    this.command
      .multi()
      .hset(key, hash, '1')
      .expire(key, MANIFEST_TTL_S)
      .exec()
      .catch(() => {});
  }

  /** Queue one node and wait for its outcome. */
  run(payload: NodeJobPayload): Promise<'ran' | 'cached'> {
    if (this.aborted)
      return Promise.reject(new ScalpelError(ErrorCode.Interrupted, 'the sweep was stopped'));
    const jobId = jobIdOf(this.opts.sweepId, payload.hash);
    return new Promise((resolve, reject) => {
      const p: Pending = {
        payload,
        jobId,
        resolve,
        reject,
        attemptsSeen: 0,
        checking: false,
        enqueuing: true,
        progress: new Map(),
      };
      this.pending.set(jobId, p);
      this.enqueue(p, true).then(
        () => {
          p.enqueuing = false;
        },
        (e: unknown) => this.settle(p, e),
      );
    });
  }

  private async enqueue(p: Pending, fresh: boolean): Promise<void> {
    const existing = await this.queue.getJob(p.jobId);
    if (existing !== undefined) {
      const state = await existing.getState();
      // A job of an earlier coordinator of this sweep: still going, adopt it; finished (its
      // result is not in the cache, or it failed), start it afresh.
      if (state !== 'completed' && state !== 'failed' && state !== 'unknown') {
        this.event(p, 'node-adopted', { state });
        return;
      }
      await existing.remove();
    }
    if (this.aborted) return;
    await this.queue.add(p.payload.stageId, p.payload, {
      jobId: p.jobId,
      attempts: this.opts.retries + 1,
      backoff: { type: 'exponential', delay: this.opts.backoffMs ?? queueTiming().backoffMs },
      removeOnComplete: { age: 24 * 3600 },
      removeOnFail: { age: 7 * 24 * 3600 },
    });
    this.event(p, fresh ? 'node-queued' : 'node-requeued', {
      trials: p.payload.trials,
      ...(fresh
        ? {}
        : { reason: 'the job was lost (Redis restarted?) or abandoned by an earlier run' }),
    });
  }

  private onProgress(p: Pending | undefined, data: unknown): void {
    if (p === undefined || !isObject(data)) return;
    if (data['type'] === 'start') {
      this.event(p, 'node-started', {
        host: data['host'],
        pid: data['pid'],
        attempt: data['attempt'],
      });
      this.logging?.logger.debug(
        `running on ${String(data['host'])} (attempt ${String(data['attempt'])})`,
        {
          stageId: p.payload.stageId,
        },
      );
      return;
    }
    if (data['type'] !== 'progress' || this.progress === undefined) return;
    const stageId = typeof data['stageId'] === 'string' ? data['stageId'] : p.payload.stageId;
    const label = typeof data['label'] === 'string' ? data['label'] : '';
    const total = typeof data['total'] === 'number' ? data['total'] : 0;
    const done = typeof data['done'] === 'number' ? data['done'] : 0;
    let bar = p.progress.get(label);
    if (bar === undefined) {
      bar = this.progress.create(stageId, label, total);
      p.progress.set(label, bar);
    }
    bar.update(done);
  }

  private settle(p: Pending, outcome: unknown, result?: NodeJobResult): void {
    if (this.pending.get(p.jobId) !== p) return;
    this.pending.delete(p.jobId);
    for (const bar of p.progress.values()) bar.done();
    if (result !== undefined) {
      this.event(p, 'node-done', { status: result.status, host: result.host, pid: result.pid });
      p.resolve(result.status);
    } else {
      const error =
        outcome instanceof ScalpelError
          ? outcome
          : failureError(String(outcome), p.payload.stageId);
      this.event(p, 'node-failed', { error: error.toJSON() });
      p.reject(error);
    }
  }

  /** Look at a job's state (and the cache) and act on it; Redis errors wait for the next round. */
  private check(p: Pending | undefined): void {
    if (p === undefined || p.checking || this.aborted) return;
    p.checking = true;
    this.checkJob(p)
      .catch(() => {})
      .finally(() => {
        p.checking = false;
      });
  }

  private async checkJob(p: Pending): Promise<void> {
    // The state first, then the job: a job read before it completed would lack its result.
    const state = await this.queue.getJobState(p.jobId);
    const job: Job<JobData, NodeJobResult> | undefined =
      state === 'unknown' ? undefined : await this.queue.getJob(p.jobId);
    if (job === undefined) {
      if (p.enqueuing) return;
      if (this.cache?.lookup(p.payload.hash) !== undefined && !p.payload.overwrite) {
        // The job is gone (Redis lost it) but its result is in the cache.
        this.settle(p, undefined, { status: 'ran', host: 'unknown', pid: 0 });
        return;
      }
      p.enqueuing = true;
      try {
        await this.enqueue(p, false);
      } finally {
        p.enqueuing = false;
      }
      return;
    }
    if (state === 'completed') {
      const r = resultOf(job.returnvalue) ?? { status: 'ran', host: 'unknown', pid: 0 };
      this.settle(p, undefined, r);
      return;
    }
    if (state === 'failed') {
      const error = failureError(job.failedReason, p.payload.stageId);
      if (error.code === ErrorCode.Interrupted && !this.aborted) {
        // Abandoned at the request of an earlier, interrupted coordinator of this sweep (the
        // worker noticed only after we took the sweep up again): not a failure, run it again.
        await job.remove();
        await this.enqueue(p, false);
        return;
      }
      this.settle(p, error);
      return;
    }
    // A failed attempt that will be retried: not finished, with a failure reason. (A job that
    // completed after we read its state has finishedOn set; it is settled on the next check.)
    if (
      job.attemptsMade > p.attemptsSeen &&
      job.finishedOn === undefined &&
      job.failedReason !== undefined &&
      job.failedReason !== ''
    ) {
      p.attemptsSeen = job.attemptsMade;
      const error = failureError(job.failedReason, p.payload.stageId);
      this.event(p, 'node-retry', { attempt: job.attemptsMade + 1, error: error.toJSON() });
      this.logging?.logger.warn(
        `attempt ${job.attemptsMade} failed (${error.message}); retrying (${job.attemptsMade + 1} of ${this.opts.retries + 1})`,
        { stageId: p.payload.stageId },
      );
    }
  }

  private reconcile(): void {
    if (this.aborted || this.pending.size === 0) return;
    for (const p of this.pending.values()) this.check(p);
    this.queue.getWorkersCount().then(
      (n) => {
        if (n > 0) {
          this.noWorkerSince = undefined;
          return;
        }
        this.noWorkerSince ??= Date.now();
        if (!this.warnedNoWorker && Date.now() - this.noWorkerSince > noWorkerWarningMs()) {
          this.warnedNoWorker = true;
          this.logging?.logger.warn(
            `no scalpel worker is connected to ${this.redisUrl}; start one with \`scalpel worker --redis ${this.redisUrl} --cache-dir <the shared cache>\``,
          );
        }
      },
      () => {},
    );
  }

  /** Ctrl-C: stop adding, remove waiting jobs, ask workers to abandon running ones. */
  abort(): Promise<void> {
    this.aborting ??= this.stopJobs();
    return this.aborting;
  }

  private async stopJobs(): Promise<void> {
    this.aborted = true;
    const all = [...this.pending.values()];
    try {
      await this.command.set(abandonKey(this.opts.sweepId), '1', 'EX', 3600);
      for (const p of all) {
        const job = await this.queue.getJob(p.jobId);
        if (job === undefined) continue;
        const state = await job.getState();
        if (
          state === 'waiting' ||
          state === 'delayed' ||
          state === 'prioritized' ||
          state === 'waiting-children'
        )
          await job.remove().catch(() => {});
      }
    } catch {
      // Redis unreachable: the jobs stay; a rerun adopts them.
    }
    for (const p of all)
      this.settle(p, new ScalpelError(ErrorCode.Interrupted, 'the sweep was stopped'));
  }

  /** Stop listening and quit every Redis client. */
  async close(): Promise<void> {
    if (this.timer !== undefined) clearInterval(this.timer);
    await this.aborting; // Ctrl-C: finish removing the sweep's jobs first
    await Promise.allSettled([this.events?.close(), this.queue.close()]);
    await this.clients.closeAll();
  }
}
