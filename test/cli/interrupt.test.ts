// Killing a run: SIGKILL mid-stage leaves nothing a later run could take for a finished entry and
// the rerun completes; SIGINT stops cleanly with exit code 130 and an "interrupted" record.
import { strict as assert } from 'node:assert';
import { existsSync, readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { Cache } from '../../src/engine/cache.js';
import { tempDir } from '../helpers/paths.js';
import {
  counter,
  readJson,
  runCli,
  runDirOf,
  startCli,
  waitFor,
  slowChain,
  slowStarted,
  writeRecipe,
} from './cli-helpers.js';

const stages = slowChain(3000); // a ─▶ slow ─▶ c

/** Every directory under cache/ is a complete, valid entry. */
function assertCacheClean(cache: Cache): void {
  const dirs = existsSync(cache.entriesDir) ? readdirSync(cache.entriesDir) : [];
  for (const d of dirs) assert.ok(cache.lookup(d), `cache/${d} is a valid entry`);
}

describe('CLI run: interruption', function () {
  this.timeout(60000);
  const dirs: string[] = [];
  after(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));

  it('SIGKILL in the middle of a stage, then a rerun completes with no stale entries', async () => {
    const dir = tempDir('scalpel-kill-');
    dirs.push(dir);
    const recipe = writeRecipe(dir, stages);
    const cache = new Cache(join(dir, '.scalpel'));
    const run = startCli(['run', recipe], dir);
    await waitFor(slowStarted(dir), 30000, 'the slow stage to start');
    // The stage has written a file into its out dir by now or soon; kill it mid-flight.
    await new Promise((r) => setTimeout(r, 300));
    run.child.kill('SIGKILL');
    const killed = await run.done;
    assert.equal(killed.signal, 'SIGKILL');

    assert.deepEqual(
      cache.list(),
      readdirSync(cache.entriesDir),
      'only complete entries under cache/',
    );
    assert.equal(cache.list().length, 1, 'just the entry of a');
    const leftovers = readdirSync(cache.tmpDir).filter((n) => !n.endsWith('.lease'));
    assert.equal(leftovers.length, 1, 'the killed stage left its temp dir');
    // With its lease beside it (cache-lease.ts), naming a dead process of this host.
    assert.deepEqual(readdirSync(cache.tmpDir).sort(), [leftovers[0], `${leftovers[0]}.lease`]);
    assertCacheClean(cache);

    const rerun = await runCli(['run', recipe], dir);
    assert.equal(rerun.code, 0, rerun.stderr);
    assert.deepEqual(
      counter(dir),
      ['a', 'slow', 'slow', 'c'],
      'a came from the cache, slow ran again',
    );
    assert.match(rerun.stderr, /removed 1 unfinished cache entry/);
    assert.deepEqual(readdirSync(cache.tmpDir), [], 'the stale temp dir was cleaned up');
    assert.equal(cache.list().length, 3);
    assertCacheClean(cache);
    const summary = readJson<{ status: string }>(join(runDirOf(rerun, dir), 'summary.json'));
    assert.equal(summary.status, 'ok');
  });

  it('SIGINT stops the running stage, records "interrupted" and exits 130', async () => {
    const dir = tempDir('scalpel-int-');
    dirs.push(dir);
    // A long stage: if the run waited for it instead of stopping it, the exit would come ~8 s later.
    const recipe = writeRecipe(dir, {
      ...stages,
      slow: { ...stages['slow'], uses: 'sleep-and-write', with: { ms: 8000 } },
    });
    const cache = new Cache(join(dir, '.scalpel'));
    const run = startCli(['run', recipe], dir);
    await waitFor(slowStarted(dir), 30000, 'the slow stage to start');
    const t0 = Date.now();
    run.child.kill('SIGINT');
    const r = await run.done;
    assert.equal(r.code, 130, r.stderr);
    assert.ok(
      Date.now() - t0 < 5000,
      `the stage was stopped, not waited for (${Date.now() - t0} ms)`,
    );
    assert.doesNotMatch(r.stderr + r.stdout, /^\s+at /m, 'no stack trace');
    assert.match(
      r.stdout,
      /slow\s+sleep-and-write\s+interrupted\s+\S+\s+stopped: run interrupted \(not cached/,
    );
    assert.doesNotMatch(r.stdout, /aborted/i, 'the abort error is not shown as a failure');
    assert.match(r.stdout, /c\s+count\s+skipped\s+not started: run interrupted/);

    const runDir = runDirOf(r, dir);
    const summary = readJson<{ status: string; nodes: { id: string; status: string }[] }>(
      join(runDir, 'summary.json'),
    );
    assert.equal(summary.status, 'interrupted');
    assert.deepEqual(
      summary.nodes.map((n) => [n.id, n.status]),
      [
        ['a', 'ran'],
        ['slow', 'interrupted'],
        ['c', 'skipped'],
      ],
    );
    const lock = readJson<{ nodes: Record<string, { status: string; hash: string }> }>(
      join(runDir, 'lock.json'),
    );
    assert.equal(lock.nodes['slow']?.status, 'interrupted');
    assert.equal(
      cache.lookup(lock.nodes['slow']?.hash ?? ''),
      undefined,
      'no entry for the unfinished stage',
    );
    assert.deepEqual(readdirSync(cache.tmpDir), [], 'its temp dir was removed');
    assertCacheClean(cache);
    assert.deepEqual(counter(dir), ['a', 'slow']);
  });
});
