// How fast BullMQ notices a dead worker: a job's lock lasts lockDuration and is renewed by the
// worker; the stalled check (every stalledInterval) hands a job whose lock expired to another
// worker, at most maxStalledCount times. Defaults suit real stages (30 s / 30 s / 2); the
// SCALPEL_QUEUE_LOCK_MS, SCALPEL_QUEUE_STALLED_MS, SCALPEL_QUEUE_MAX_STALLED and
// SCALPEL_QUEUE_BACKOFF_MS variables tune them (tests make them fast).
export interface QueueTiming {
  readonly lockDurationMs: number;
  readonly stalledIntervalMs: number;
  readonly maxStalledCount: number;
  /** First retry delay of a failed stage (exponential backoff). */
  readonly backoffMs: number;
}

function positive(v: string | undefined, fallback: number): number {
  const n = Number(v);
  return v !== undefined && Number.isFinite(n) && n > 0 ? Math.floor(n) : fallback;
}

export function queueTiming(env: NodeJS.ProcessEnv = process.env): QueueTiming {
  return {
    lockDurationMs: positive(env['SCALPEL_QUEUE_LOCK_MS'], 30_000),
    stalledIntervalMs: positive(env['SCALPEL_QUEUE_STALLED_MS'], 30_000),
    maxStalledCount: positive(env['SCALPEL_QUEUE_MAX_STALLED'], 2),
    backoffMs: positive(env['SCALPEL_QUEUE_BACKOFF_MS'], 1000),
  };
}
