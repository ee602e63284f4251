import { strict as assert } from 'node:assert';
import { schedule, type SchedulerNode } from '../../src/engine/scheduler.js';

interface N extends SchedulerNode {
  ms: number;
  fail?: boolean;
}

/** An executor that records start/end times and the peak number of nodes in flight. */
function recorder(opts: { signal?: AbortSignal; ignoreAbort?: boolean } = {}) {
  const events: { key: string; start: number; end: number }[] = [];
  let inFlight = 0;
  let peak = 0;
  const execute = async (n: N): Promise<'ran'> => {
    const start = Date.now();
    inFlight++;
    peak = Math.max(peak, inFlight);
    try {
      await new Promise<void>((res, rej) => {
        const t = setTimeout(res, n.ms);
        if (opts.ignoreAbort !== true) {
          opts.signal?.addEventListener('abort', () => {
            clearTimeout(t);
            rej(new Error('aborted'));
          });
        }
      });
      if (n.fail === true) throw new Error(`${n.key} failed`);
      return 'ran';
    } finally {
      inFlight--;
      events.push({ key: n.key, start, end: Date.now() });
    }
  };
  return { events, execute, peak: () => peak };
}

describe('scheduler', () => {
  it('never runs more than `jobs` nodes at once and uses all of them', async () => {
    const nodes: N[] = ['a', 'b', 'c', 'd', 'e'].map((key) => ({ key, needs: [], ms: 40 }));
    for (const jobs of [1, 2, 3]) {
      const r = recorder();
      const out = await schedule(nodes, { jobs, execute: r.execute });
      assert.equal(r.peak(), jobs);
      assert.ok([...out.values()].every((o) => o.status === 'ran'));
    }
  });

  it('starts a node only after all its needs finished', async () => {
    // a → c, b → c, c → d; e independent
    const nodes: N[] = [
      { key: 'a', needs: [], ms: 30 },
      { key: 'b', needs: [], ms: 60 },
      { key: 'c', needs: ['a', 'b'], ms: 10 },
      { key: 'd', needs: ['c'], ms: 10 },
      { key: 'e', needs: [], ms: 10 },
    ];
    const r = recorder();
    await schedule(nodes, { jobs: 4, execute: r.execute });
    const at = (k: string) => r.events.find((e) => e.key === k) ?? assert.fail(k);
    assert.ok(at('c').start >= at('a').end && at('c').start >= at('b').end);
    assert.ok(at('d').start >= at('c').end);
    assert.ok(at('e').start < at('b').end, 'independent node did not wait');
  });

  it('skips the dependents of a failed node (naming the root cause) and finishes independent branches', async () => {
    const nodes: N[] = [
      { key: 'a', needs: [], ms: 10, fail: true },
      { key: 'b', needs: ['a'], ms: 10 },
      { key: 'c', needs: ['b'], ms: 10 },
      { key: 'x', needs: [], ms: 50 },
      { key: 'y', needs: ['x'], ms: 10 },
      { key: 'z', needs: ['x', 'c'], ms: 10 },
    ];
    const r = recorder();
    const out = await schedule(nodes, { jobs: 2, execute: r.execute });
    const status = Object.fromEntries([...out].map(([k, o]) => [k, o.status]));
    assert.deepEqual(status, {
      a: 'failed',
      b: 'skipped',
      c: 'skipped',
      x: 'ran',
      y: 'ran',
      z: 'skipped',
    });
    assert.deepEqual(out.get('c')?.skipped, { reason: 'failed', key: 'a' });
    assert.deepEqual(out.get('z')?.skipped, { reason: 'failed', key: 'a' });
    assert.match(String(out.get('a')?.error), /a failed/);
    assert.deepEqual(r.events.map((e) => e.key).sort(), ['a', 'x', 'y']);
  });

  it('on abort: running nodes are interrupted, queued ones skipped, nothing new starts', async () => {
    const ac = new AbortController();
    const nodes: N[] = [
      { key: 'a', needs: [], ms: 1000 },
      { key: 'b', needs: [], ms: 1000 },
      { key: 'c', needs: [], ms: 10 },
      { key: 'd', needs: ['a'], ms: 10 },
    ];
    const r = recorder({ signal: ac.signal });
    setTimeout(() => ac.abort(), 50);
    const t0 = Date.now();
    const out = await schedule(nodes, { jobs: 2, signal: ac.signal, execute: r.execute });
    assert.ok(Date.now() - t0 < 500, 'returned promptly');
    assert.equal(out.get('a')?.status, 'interrupted');
    assert.equal(out.get('b')?.status, 'interrupted');
    assert.deepEqual(out.get('c')?.skipped, { reason: 'interrupted' });
    assert.deepEqual(out.get('d')?.skipped, { reason: 'interrupted' });
    assert.deepEqual(r.events.map((e) => e.key).sort(), ['a', 'b']);
  });

  it('gives up on a node that ignores the abort after the grace period', async () => {
    const ac = new AbortController();
    const r = recorder({ signal: ac.signal, ignoreAbort: true });
    setTimeout(() => ac.abort(), 20);
    const t0 = Date.now();
    const out = await schedule([{ key: 'slow', needs: [], ms: 2000 }], {
      jobs: 1,
      signal: ac.signal,
      graceMs: 200,
      execute: r.execute,
    });
    const took = Date.now() - t0;
    assert.ok(took >= 200 && took < 1500, `took ${took} ms`);
    assert.equal(out.get('slow')?.status, 'interrupted');
  });

  it('reports cached nodes as cached and runs dependents', async () => {
    const out = await schedule(
      [
        { key: 'a', needs: [] },
        { key: 'b', needs: ['a'] },
      ],
      { jobs: 1, execute: async (n) => (n.key === 'a' ? 'cached' : 'ran') },
    );
    assert.equal(out.get('a')?.status, 'cached');
    assert.equal(out.get('b')?.status, 'ran');
  });

  it('rejects graphs it cannot run (unknown needs, cycles, duplicate keys)', async () => {
    const exec = async (): Promise<'ran'> => 'ran';
    await assert.rejects(
      schedule([{ key: 'a', needs: ['zz'] }], { jobs: 1, execute: exec }),
      /unknown/,
    );
    await assert.rejects(
      schedule(
        [
          { key: 'a', needs: ['b'] },
          { key: 'b', needs: ['a'] },
        ],
        { jobs: 1, execute: exec },
      ),
      /cycle/,
    );
    await assert.rejects(
      schedule(
        [
          { key: 'a', needs: [] },
          { key: 'a', needs: [] },
        ],
        { jobs: 1, execute: exec },
      ),
      /duplicate/,
    );
  });
});
