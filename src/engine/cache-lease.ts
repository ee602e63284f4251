// Leases on work in progress in a directory other hosts may share (the cache's tmp/ on NFS, a
// sweep directory): a small JSON file naming the owner's host and pid, whose mtime is the owner's
// heartbeat. A lease is stale when its owner is a dead process on this host, or when its
// heartbeat is older than the TTL (the only thing another host can judge). A process id is never
// checked on a host it does not belong to.
import {
  closeSync,
  openSync,
  readFileSync,
  rmSync,
  statSync,
  utimesSync,
  writeSync,
} from 'node:fs';
import { hostId } from '../util/host-id.js';
import { isAlive } from '../util/process-alive.js';

export interface LeaseOwner {
  readonly host: string;
  readonly pid: number;
  readonly createdAt: string;
}

export interface LeaseTiming {
  /** A heartbeat older than this means the owner is gone. */
  readonly ttlMs: number;
  /** How often a holder refreshes its leases. */
  readonly heartbeatMs: number;
}

const DEFAULT_TTL_MS = 10 * 60_000;

/**
 * TTL from SCALPEL_LEASE_TTL_MS (default 10 min: a stage that blocks the event loop cannot
 * heartbeat meanwhile, and hosts' clocks may differ a little); heartbeat a quarter of it, at most
 * every 30 s.
 */
export function leaseTiming(env: NodeJS.ProcessEnv = process.env): LeaseTiming {
  const raw = Number(env['SCALPEL_LEASE_TTL_MS']);
  const ttlMs = Number.isFinite(raw) && raw > 0 ? raw : DEFAULT_TTL_MS;
  return { ttlMs, heartbeatMs: Math.max(50, Math.min(30_000, Math.floor(ttlMs / 4))) };
}

/** Create `file` as this process's lease (fails if it exists: a lease has one owner). */
export function writeLease(file: string): LeaseOwner {
  const owner: LeaseOwner = {
    host: hostId(),
    pid: process.pid,
    createdAt: new Date().toISOString(),
  };
  const fd = openSync(file, 'wx');
  try {
    writeSync(fd, JSON.stringify(owner) + '\n');
  } finally {
    closeSync(fd);
  }
  return owner;
}

/** The owner recorded in a lease file, or undefined when it is missing or unreadable. */
export function readLease(file: string): LeaseOwner | undefined {
  try {
    const v = JSON.parse(readFileSync(file, 'utf8')) as Partial<LeaseOwner>;
    return typeof v.host === 'string' &&
      typeof v.pid === 'number' &&
      typeof v.createdAt === 'string'
      ? (v as LeaseOwner)
      : undefined;
  } catch {
    return undefined;
  }
}

export type LeaseState = 'mine' | 'live' | 'stale' | 'missing';

export interface LeaseCheck {
  readonly now?: number;
  readonly ttlMs?: number;
  readonly host?: string;
}

/** Whether the lease in `file` still protects its work (see the file comment). */
export function leaseState(file: string, check: LeaseCheck = {}): LeaseState {
  let mtimeMs: number;
  try {
    mtimeMs = statSync(file).mtimeMs;
  } catch {
    return 'missing';
  }
  const owner = readLease(file);
  const host = check.host ?? hostId();
  const now = check.now ?? Date.now();
  const ttlMs = check.ttlMs ?? leaseTiming().ttlMs;
  // Unreadable: being written right now, or torn by a crash; the heartbeat decides.
  if (owner === undefined) return now - mtimeMs > ttlMs ? 'stale' : 'live';
  if (owner.host === host) {
    if (owner.pid === process.pid) return 'mine';
    if (!isAlive(owner.pid)) return 'stale';
  }
  return now - mtimeMs > ttlMs ? 'stale' : 'live';
}

/** Remove a lease file (missing is fine). */
export function removeLease(file: string): void {
  rmSync(file, { force: true });
}

/** Keeps this process's leases alive: one unref'd timer touching every held lease file. */
class LeaseKeeper {
  private readonly held = new Set<string>();
  private timer: NodeJS.Timeout | undefined;

  hold(file: string): void {
    this.held.add(file);
    if (this.timer !== undefined) return;
    this.timer = setInterval(() => this.beat(), leaseTiming().heartbeatMs);
    this.timer.unref();
  }

  release(file: string): void {
    this.held.delete(file);
    if (this.held.size === 0 && this.timer !== undefined) {
      clearInterval(this.timer);
      this.timer = undefined;
    }
  }

  beat(): void {
    const now = new Date();
    for (const file of this.held) {
      try {
        utimesSync(file, now, now);
      } catch {
        // Removed under us (a host that judged it expired): nothing left to keep alive.
      }
    }
  }
}

const keeper = new LeaseKeeper();

/** Write a lease and keep it alive until `releaseLease`. */
export function acquireLease(file: string): LeaseOwner {
  const owner = writeLease(file);
  keeper.hold(file);
  return owner;
}

/** Stop the heartbeat of a lease and remove its file. */
export function releaseLease(file: string): void {
  keeper.release(file);
  removeLease(file);
}

/** Refresh every held lease now (tests; callers about to block for a while). */
export function heartbeatNow(): void {
  keeper.beat();
}
