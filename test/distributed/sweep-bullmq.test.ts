// Distributed sweeps against a real redis-server: three `scalpel worker` processes, each with its
// own working directory, host identity and copy of the project, one shared cache directory, and
// the coordinator (runSweep with the bullmq executor) in this process.
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import { runSweep, type SweepSummary } from '../../src/sweep/sweep-run.js';
import { parseTrialsJsonl, type TrialRecord } from '../../src/sweep/sweep-record.js';
import { KEY_PREFIX, QUEUE_NAME, sweepIdOfJob } from '../../src/distributed/job-payload.js';
import { tempDir } from '../helpers/paths.js';
import { RedisServer } from './redis-server.js';
import {
  fastQueueEnv,
  project,
  readEvents,
  bullmqSweep,
  startWorkers,
  toyRecipe,
  workerStartingModel,
  withEnv,
  type WorkerProcess,
} from './helpers.js';

function trialsOf(s: SweepSummary): TrialRecord[] {
  return parseTrialsJsonl(readFileSync(join(s.dir, 'trials.jsonl'), 'utf8')).sort(
    (a, b) => a.index - b.index,
  );
}

/** Metrics without wall times (toy-prune reports timeMs), which differ between any two runs. */
function stableMetrics(t: TrialRecord): unknown {
  return JSON.parse(
    JSON.stringify(t.metrics, (k, v: unknown) => (k === 'timeMs' ? undefined : v)),
  ) as unknown;
}

function nodeHashes(t: TrialRecord): Record<string, string> {
  return Object.fromEntries(Object.entries(t.nodes).map(([id, n]) => [id, n.hash]));
}

describe('distributed sweep (BullMQ + redis-server, 3 worker processes)', function () {
  this.timeout(60_000);
  const redis = new RedisServer();
  const cacheDir = tempDir('scalpel-shared-cache-');
  let workers: WorkerProcess[] = [];
  let restoreEnv = (): void => {};

  before(async () => {
    restoreEnv = withEnv(fastQueueEnv);
    await redis.start();
    workers = await startWorkers(3, { redis: redis.url, cacheDir, recipe: toyRecipe({}) });
  });

  after(async () => {
    await Promise.all(workers.map((w) => w.kill('SIGTERM')));
    await redis.kill();
    restoreEnv();
  });

  it('a 12-trial sweep gives the metrics and node hashes of the same sweep run locally', async () => {
    const recipe = toyRecipe({ name: 'twelve', densities: [0.1, 0.2, 0.3, 0.5, 0.6, 0.8] });
    const dir = project(recipe);
    const dist = await bullmqSweep(dir, { redis: redis.url, cacheDir });
    assert.equal(dist.status, 'ok');
    assert.equal(dist.trials.ok, 12);
    assert.equal(dist.nodes.ran, dist.nodes.total, 'a fresh cache: every node ran on a worker');

    const localDir = project(recipe);
    const local = await runSweep(join(localDir, 'sweep.yaml'), { cwd: localDir, quiet: true });
    assert.equal(local.status, 'ok');
    const a = trialsOf(dist);
    const b = trialsOf(local);
    assert.equal(a.length, 12);
    assert.deepEqual(a.map(nodeHashes), b.map(nodeHashes));
    assert.deepEqual(a.map(stableMetrics), b.map(stableMetrics));
    for (const t of a) assert.equal(typeof t.metrics['eval-mag'], 'object');

    // Nothing ran in this process: the stages ran in the workers (their own counter files), and
    // every distinct node exactly once across the three.
    assert.ok(!existsSync(join(dir, 'counter.txt')), 'a stage ran in the coordinator');
    const ran = workers.flatMap((w) => w.counter());
    assert.equal(ran.length, dist.nodes.total);
    assert.ok(workers.filter((w) => w.counter().length > 0).length >= 2, 'work was spread');

    // The sweep's events say where each node ran.
    const done = readEvents(dist.dir).filter((e) => e.message === 'node-done');
    assert.equal(done.length, dist.nodes.total);
    const hosts = new Set(done.map((e) => e.data?.['host']));
    for (const h of hosts) assert.match(String(h), /^host-[123]$/);

    // results.csv as a local sweep writes it (same columns, same rows).
    const header = (d: string): string =>
      readFileSync(join(d, 'results.csv'), 'utf8').split('\n')[0] ?? '';
    assert.equal(header(dist.dir), header(local.dir));

    // Rerunning the same command: a complete sweep from the shared cache, no job needed.
    const again = await bullmqSweep(dir, { redis: redis.url, cacheDir });
    assert.equal(again.nodes.cached, again.nodes.total);
    assert.equal(workers.flatMap((w) => w.counter()).length, ran.length);
  });

  it('two coordinators of two different sweeps on one Redis do not mix their jobs', async () => {
    const dirA = project(toyRecipe({ name: 'alpha', densities: [0.15, 0.35] }));
    const dirB = project(toyRecipe({ name: 'beta', densities: [0.45, 0.65] }));
    const [a, b] = await Promise.all([
      bullmqSweep(dirA, { redis: redis.url, cacheDir }),
      bullmqSweep(dirB, { redis: redis.url, cacheDir }),
    ]);
    assert.equal(a.status, 'ok');
    assert.equal(b.status, 'ok');
    const densities = (s: SweepSummary): number[] =>
      [...new Set(trialsOf(s).map((t) => Number(t.parameters['density'])))].sort();
    assert.deepEqual(densities(a), [0.15, 0.35]);
    assert.deepEqual(densities(b), [0.45, 0.65]);
    for (const t of trialsOf(a))
      assert.equal(
        (t.metrics['prune-mag'] as { density: number }).density,
        t.parameters['density'],
      );
    for (const t of trialsOf(b))
      assert.equal(
        (t.metrics['prune-mag'] as { density: number }).density,
        t.parameters['density'],
      );
    // Each sweep's events name only its own jobs, and the two sweeps have different ids.
    const idsOf = (s: SweepSummary): Set<string | undefined> =>
      new Set(
        readEvents(s.dir)
          .filter((e) => typeof e.data?.['jobId'] === 'string')
          .map((e) => sweepIdOfJob(String(e.data?.['jobId']))),
      );
    const ia = idsOf(a);
    const ib = idsOf(b);
    assert.equal(ia.size, 1);
    assert.equal(ib.size, 1);
    assert.notDeepEqual([...ia], [...ib]);
    // The queue holds jobs of both (and of the first test), each under its sweep's id.
    const client = new Redis(redis.url, { maxRetriesPerRequest: null });
    const queue = new Queue(QUEUE_NAME, { connection: client, prefix: KEY_PREFIX });
    try {
      const jobs = await queue.getJobs(['completed'], 0, -1);
      const bySweep = new Set(jobs.map((j) => sweepIdOfJob(j.id ?? '')));
      for (const id of [...ia, ...ib]) assert.ok(bySweep.has(id));
      assert.ok(!bySweep.has(undefined));
    } finally {
      await queue.close();
      client.disconnect();
    }
  });

  it('a recipe in a subdirectory of the project: the workers resolve its relative paths as the coordinator does', async () => {
    // As with `scalpel sweep recipes/sweep-density.yaml` from a project root: the recipe names
    // its files relative to recipes/, the workers' --plugins is their copy of the project root.
    const dir = project(toyRecipe({ name: 'nested', densities: [0.35] }));
    mkdirSync(join(dir, 'recipes'));
    writeFileSync(
      join(dir, 'recipes', 'sweep.yaml'),
      toyRecipe({ name: 'nested', densities: [0.35] }).replace(
        'plugins: [./toy-plugin.js]',
        'plugins: [../toy-plugin.js]',
      ),
    );
    const s = await bullmqSweep(dir, {
      redis: redis.url,
      cacheDir,
      file: join('recipes', 'sweep.yaml'),
    });
    assert.equal(s.status, 'ok', JSON.stringify(trialsOf(s).map((t) => t.error)));
    assert.equal(s.trials.ok, 2);
  });

  it('a failing stage is retried --retries times, then reported like a local failure', async () => {
    const attempts = join(tempDir('scalpel-flaky-'), 'attempts.txt');
    const recipe = (name: string, failTimes: number, file: string, density: number): string =>
      toyRecipe({ name, densities: [density] })
        .replace('plugins: [./toy-plugin.js]', 'plugins: [./toy-plugin.js, ./flaky-plugin.js]')
        .replace(
          '  eval-mag: { uses: toy-eval, needs: [prune-mag] }',
          `  flaky: { uses: toy-flaky, needs: [prune-mag], with: { attemptsFile: ${JSON.stringify(file)}, failTimes: ${failTimes} } }\n  eval-mag: { uses: toy-eval, needs: [flaky] }`,
        );
    // Passes on the third attempt with two retries.
    const dir = project(recipe('flaky-ok', 2, attempts, 0.25));
    const ok = await bullmqSweep(dir, { redis: redis.url, cacheDir, retries: 2 });
    assert.equal(ok.status, 'ok');
    const runs = (file: string, seed: number): number =>
      readFileSync(`${file}.${seed}`, 'utf8').trim().split('\n').length;
    assert.equal(runs(attempts, 11), 3, 'three attempts');
    assert.equal(runs(attempts, 12), 3, 'three attempts');
    const retries = readEvents(ok.dir).filter((e) => e.message === 'node-retry');
    assert.equal(retries.length, 2 * 2);
    for (const t of trialsOf(ok))
      assert.equal((t.metrics['flaky'] as { failuresBefore: number }).failuresBefore, 2);

    // Fails three times with one retry: the node fails, its dependents are skipped.
    const attempts2 = join(tempDir('scalpel-flaky-'), 'attempts.txt');
    const dir2 = project(recipe('flaky-bad', 3, attempts2, 0.27));
    const bad = await bullmqSweep(dir2, { redis: redis.url, cacheDir, retries: 1 });
    assert.equal(bad.status, 'failed');
    assert.equal(bad.exitCode, 1);
    assert.equal(bad.trials.failed, 2);
    assert.equal(runs(attempts2, 11), 2, 'two attempts, then it failed');
    assert.equal(runs(attempts2, 12), 2, 'two attempts, then it failed');
    for (const t of trialsOf(bad)) {
      assert.equal(t.status, 'failed');
      assert.equal(t.nodes['flaky']?.status, 'failed');
      assert.equal(t.nodes['eval-mag']?.status, 'skipped');
      assert.equal(t.nodes['eval-rand']?.status, 'ran', 'independent branches carry on');
      assert.match(t.error?.message ?? '', /flaky failure 2 of 3/);
    }
  });

  it('a Redis restart mid-sweep (all its data lost) does not stop the sweep', async () => {
    const recipe = toyRecipe({ name: 'restart', densities: [0.12, 0.32, 0.52], pruneSleepMs: 400 });
    const dir = project(recipe);
    const before = workers.flatMap((w) => w.counter()).length;
    const sweep = bullmqSweep(dir, { redis: redis.url, cacheDir });
    // Restart once a few nodes ran and others are queued or running.
    const deadline = Date.now() + 20_000;
    while (workers.flatMap((w) => w.counter()).length < before + 4) {
      assert.ok(Date.now() < deadline, 'the sweep did not start');
      await new Promise((r) => setTimeout(r, 50));
    }
    await redis.restart();
    const s = await sweep;
    assert.equal(s.status, 'ok');
    assert.equal(s.trials.ok, 6);
    const local = project(recipe);
    const l = await runSweep(join(local, 'sweep.yaml'), { cwd: local, quiet: true });
    assert.deepEqual(trialsOf(s).map(stableMetrics), trialsOf(l).map(stableMetrics));
    assert.ok(
      readEvents(s.dir).some((e) => e.message === 'node-requeued'),
      'jobs lost with the restart were queued again',
    );
  });

  it('a worker SIGKILLed in the middle of a node: the node runs again elsewhere, nothing stale is left', async () => {
    const dir = project(toyRecipe({ name: 'killed', densities: [0.4], modelSleepMs: 2500 }));
    const sweep = bullmqSweep(dir, { redis: redis.url, cacheDir });
    // The model stages sleep 2.5 s; kill the first worker seen starting one.
    const victim = await workerStartingModel(workers);
    await victim.kill('SIGKILL');
    const s = await sweep;
    assert.equal(s.status, 'ok');
    assert.equal(s.trials.ok, 2);
    const events = readEvents(s.dir);
    const started = events.filter((e) => e.message === 'node-started' && e.stageId === 'model');
    const killedHash = started.find((e) => e.data?.['host'] === victim.host)?.data?.['hash'];
    assert.equal(typeof killedHash, 'string');
    const runs = started.filter((e) => e.data?.['hash'] === killedHash);
    assert.ok(runs.length >= 2, 'the killed node started again');
    const doneBy = events.find((e) => e.message === 'node-done' && e.data?.['hash'] === killedHash);
    assert.ok(
      doneBy !== undefined && doneBy.data?.['host'] !== victim.host,
      'finished on another host',
    );
    assert.ok(events.some((e) => e.message === 'node-stalled' && e.data?.['hash'] === killedHash));
    // The dead worker's half-built entry was never taken as complete and has been cleaned up.
    const tmp = join(cacheDir, 'tmp');
    const left = existsSync(tmp) ? readdirSync(tmp) : [];
    assert.deepEqual(left, [], `left in tmp/: ${left.join(', ')}`);
    workers = workers.filter((w) => w !== victim);
  });

  it('a worker stopped with SIGTERM mid-node hands its job back without a failed attempt', async () => {
    const dir = project(toyRecipe({ name: 'stopped', densities: [0.45], modelSleepMs: 2600 }));
    const sweep = bullmqSweep(dir, { redis: redis.url, cacheDir });
    const victim = await workerStartingModel(workers);
    const t0 = Date.now();
    await victim.kill('SIGTERM');
    assert.ok(Date.now() - t0 < 5000, 'the worker stopped promptly');
    assert.equal(victim.child.exitCode, 0, victim.output);
    const s = await sweep;
    assert.equal(s.status, 'ok');
    const events = readEvents(s.dir);
    const hash = events.find(
      (e) =>
        e.message === 'node-started' && e.data?.['host'] === victim.host && e.stageId === 'model',
    )?.data?.['hash'];
    assert.equal(typeof hash, 'string');
    const done = events.find((e) => e.message === 'node-done' && e.data?.['hash'] === hash);
    assert.ok(done !== undefined && done.data?.['host'] !== victim.host);
    assert.equal(
      events.filter((e) => e.message === 'node-retry' || e.message === 'node-failed').length,
      0,
    );
    workers = workers.filter((w) => w !== victim);
  });
});
