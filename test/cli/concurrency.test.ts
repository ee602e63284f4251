// --jobs through the real CLI, measured from the timestamps the stages themselves write.
import { strict as assert } from 'node:assert';
import { readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { tempDir } from '../helpers/paths.js';
import { mapLimit, runCli, writeRecipe } from './cli-helpers.js';

interface Timing {
  id: string;
  pid?: number;
  start: number;
  end?: number;
}

interface Interval {
  start: number;
  end: number;
  /** The process the stage ran in. */
  pid: number;
}

function intervals(dir: string): Map<string, Interval> {
  const out = new Map<string, Interval>();
  for (const line of readFileSync(join(dir, 'timings.jsonl'), 'utf8').split('\n')) {
    if (line === '') continue;
    const t = JSON.parse(line) as Timing;
    if (t.end !== undefined) out.set(t.id, { start: t.start, end: t.end, pid: t.pid ?? -1 });
  }
  return out;
}

describe('CLI run: --jobs', function () {
  this.timeout(60000);
  const dirs: string[] = [];
  after(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));

  it('overlaps two independent 3 s stages with --jobs 2 and serialises them with --jobs 1', async () => {
    const results = await mapLimit([2, 1], 2, async (jobs) => {
      const dir = tempDir(`scalpel-jobs${jobs}-`);
      dirs.push(dir);
      const recipe = writeRecipe(dir, {
        s1: { uses: 'sleep-and-write', with: { ms: 3000, value: 1 } },
        s2: { uses: 'sleep-and-write', with: { ms: 3000, value: 2 } },
      });
      const r = await runCli(['run', recipe, '--jobs', String(jobs)], dir);
      assert.equal(r.code, 0, r.stderr);
      return intervals(dir);
    });
    const [two, one] = results;
    const overlap = (m: Map<string, Interval> | undefined): number => {
      const a = m?.get('s1');
      const b = m?.get('s2');
      assert.ok(a && b, 'both stages wrote their timings');
      return Math.min(a.end, b.end) - Math.max(a.start, b.start);
    };
    // Each stage sleeps 3000 ms: in parallel they overlap for most of it (less the second
    // worker process's start-up on a loaded machine); in series not at all.
    assert.ok(overlap(two) > 1000, `--jobs 2: overlap ${overlap(two)} ms`);
    assert.ok(overlap(one) <= 0, `--jobs 1: overlap ${overlap(one)} ms`);
    // --jobs 2 runs stages in worker processes (one node at a time each, so two overlapping
    // stages are two processes); --jobs 1 runs both in the CLI's own process.
    const pids = (m: Map<string, Interval> | undefined): number[] =>
      ['s1', 's2'].map((id) => m?.get(id)?.pid ?? -1);
    const [a2, b2] = pids(two);
    const [a1, b1] = pids(one);
    assert.ok(a2 !== undefined && a2 > 0 && b2 !== undefined && b2 > 0, 'pids recorded');
    assert.notEqual(a2, b2, '--jobs 2: two worker processes');
    assert.equal(a1, b1, '--jobs 1: one process');
  });
});
