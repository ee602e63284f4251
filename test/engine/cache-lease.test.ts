// Leases on work in progress in a shared directory: judged by pid only on the owner's own host,
// by heartbeat (mtime) against the TTL otherwise; the keeper's heartbeat keeps a lease live.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import {
  acquireLease,
  heartbeatNow,
  leaseState,
  leaseTiming,
  readLease,
  releaseLease,
  writeLease,
} from '../../src/engine/cache-lease.js';
import { Cache } from '../../src/engine/cache.js';
import { hostId } from '../../src/util/host-id.js';
import { tempDir } from '../helpers/paths.js';

function deadPid(): number {
  const r = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))'], {
    encoding: 'utf8',
  });
  return Number(r.stdout);
}

/** A lease file as another process (`host`, `pid`) wrote it, last refreshed `ageMs` ago. */
function foreignLease(file: string, host: string, pid: number, ageMs: number): void {
  writeFileSync(file, JSON.stringify({ host, pid, createdAt: new Date().toISOString() }));
  const t = new Date(Date.now() - ageMs);
  utimesSync(file, t, t);
}

describe('host id', () => {
  it('is SCALPEL_HOST_ID when set (trimmed), else the hostname', () => {
    assert.equal(hostId({ SCALPEL_HOST_ID: ' box-7 ' }), 'box-7');
    assert.equal(hostId({ SCALPEL_HOST_ID: '  ' }), hostname());
    assert.equal(hostId({}), hostname());
  });
});

describe('cache leases', () => {
  const ttlMs = 5_000;

  it('takes the TTL from SCALPEL_LEASE_TTL_MS, heartbeating at a quarter of it (at most 30 s)', () => {
    assert.deepEqual(leaseTiming({ SCALPEL_LEASE_TTL_MS: '2000' }), {
      ttlMs: 2000,
      heartbeatMs: 500,
    });
    assert.deepEqual(leaseTiming({}), { ttlMs: 600_000, heartbeatMs: 30_000 });
    assert.equal(leaseTiming({ SCALPEL_LEASE_TTL_MS: 'soon' }).ttlMs, 600_000);
  });

  it('records host and pid; own leases are mine, a live local owner is live, a dead one stale', () => {
    const dir = tempDir('scalpel-lease-');
    const mine = join(dir, 'mine.lease');
    const owner = writeLease(mine);
    assert.deepEqual(readLease(mine), owner);
    assert.equal(owner.host, hostId());
    assert.equal(owner.pid, process.pid);
    assert.equal(leaseState(mine, { ttlMs }), 'mine');
    assert.throws(() => writeLease(mine), /EEXIST/, 'a lease has one owner');

    const parent = join(dir, 'parent.lease');
    foreignLease(parent, hostId(), process.ppid, 0);
    assert.equal(leaseState(parent, { ttlMs }), 'live');
    // Same host, pid alive: live even with an old heartbeat? No: the heartbeat still decides.
    foreignLease(parent, hostId(), process.ppid, 10 * ttlMs);
    assert.equal(leaseState(parent, { ttlMs }), 'stale');

    const dead = join(dir, 'dead.lease');
    foreignLease(dead, hostId(), deadPid(), 0);
    assert.equal(leaseState(dead, { ttlMs }), 'stale', 'a dead local owner, however fresh');
    assert.equal(leaseState(join(dir, 'none.lease'), { ttlMs }), 'missing');
  });

  it('judges another host only by its heartbeat, never by a pid that means nothing here', () => {
    const dir = tempDir('scalpel-lease-');
    const file = join(dir, 'other.lease');
    // The pid of a dead local process: on the other host it may well be alive.
    foreignLease(file, 'other-host', deadPid(), 1000);
    assert.equal(leaseState(file, { ttlMs }), 'live');
    foreignLease(file, 'other-host', deadPid(), ttlMs + 1000);
    assert.equal(leaseState(file, { ttlMs }), 'stale');
    // The same file read by "other-host" itself: its own pid check applies.
    foreignLease(file, 'other-host', deadPid(), 1000);
    assert.equal(leaseState(file, { ttlMs, host: 'other-host' }), 'stale');
    // Unreadable (torn) lease: the heartbeat decides.
    writeFileSync(file, '{"host":');
    assert.equal(leaseState(file, { ttlMs }), 'live');
    assert.equal(leaseState(file, { ttlMs, now: Date.now() + 2 * ttlMs }), 'stale');
  });

  it('a held lease is kept alive by its heartbeat and removed on release', async () => {
    const dir = tempDir('scalpel-lease-');
    const file = join(dir, 'held.lease');
    acquireLease(file);
    const old = new Date(Date.now() - 60_000);
    utimesSync(file, old, old);
    assert.equal(leaseState(file, { ttlMs, host: 'judge-elsewhere' }), 'stale');
    heartbeatNow();
    assert.ok(Date.now() - statSync(file).mtimeMs < 1000);
    assert.equal(leaseState(file, { ttlMs, host: 'judge-elsewhere' }), 'live');
    releaseLease(file);
    assert.ok(!existsSync(file));
  });

  it('cache.cleanStale removes only entries whose lease is stale or missing', () => {
    const cache = new Cache(tempDir('scalpel-lease-cache-'));
    const h = 'ab'.repeat(32);
    mkdirSync(cache.tmpDir, { recursive: true });
    const make = (name: string, lease?: { host: string; pid: number; ageMs: number }): string => {
      const d = join(cache.tmpDir, name);
      mkdirSync(join(d, 'out'), { recursive: true });
      if (lease !== undefined) foreignLease(`${d}.lease`, lease.host, lease.pid, lease.ageMs);
      return d;
    };
    const ttl = leaseTiming().ttlMs;
    const mine = cache.begin(h);
    const liveOther = make(`${h}-123-aaaa`, { host: 'other-host', pid: 123, ageMs: 0 });
    const expiredOther = make(`${h}-124-bbbb`, {
      host: 'other-host',
      pid: 124,
      ageMs: ttl + 60_000,
    });
    const deadLocal = make(`${h}-${deadPid()}-cccc`, { host: hostId(), pid: deadPid(), ageMs: 0 });
    const noLease = make(`${h}-125-dddd-old`);
    writeFileSync(join(cache.tmpDir, `${h}-126-eeee.lease`), '{}'); // orphan, fresh: kept
    assert.equal(cache.cleanStale(), 3);
    assert.ok(existsSync(mine.tmpDir) && existsSync(`${mine.tmpDir}.lease`));
    assert.ok(existsSync(liveOther) && existsSync(`${liveOther}.lease`));
    for (const d of [expiredOther, deadLocal, noLease]) {
      assert.ok(!existsSync(d), d);
      assert.ok(!existsSync(`${d}.lease`), `${d}.lease`);
    }
    assert.ok(existsSync(join(cache.tmpDir, `${h}-126-eeee.lease`)));
    cache.discard(mine);
    assert.ok(!existsSync(`${mine.tmpDir}.lease`), 'discard releases the lease');
  });
});
