// The distributed executor's refusals and command line: a worker that cannot run a job says why
// (and is not retried), usage errors name the flag, Ctrl-C on the coordinator removes its queued
// jobs and the same command resumes, and `sweep --status` reads the queue.
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { once } from 'node:events';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { Queue, QueueEvents } from 'bullmq';
import { Redis } from 'ioredis';
import { runSweep } from '../../src/sweep/sweep-run.js';
import { parseTrialsJsonl } from '../../src/sweep/sweep-record.js';
import {
  JOB_FORMAT,
  KEY_PREFIX,
  QUEUE_NAME,
  sha256Text,
  sweepIdOfJob,
  type NodeJobPayload,
} from '../../src/distributed/job-payload.js';
import { cacheIdentity } from '../../src/distributed/cache-identity.js';
import { Writable } from 'node:stream';
import { Terminal } from '../../src/engine/terminal.js';
import { cliPath, tempDir } from '../helpers/paths.js';
import { RedisServer } from './redis-server.js';
import {
  WorkerProcess,
  bullmqSweep,
  fastQueueEnv,
  project,
  readEvents,
  toyRecipe,
  withEnv,
} from './helpers.js';

function cli(
  args: string[],
  cwd: string,
): { status: number | null; stderr: string; stdout: string } {
  const r = spawnSync(process.execPath, [cliPath, ...args], {
    cwd,
    encoding: 'utf8',
    env: { ...process.env, ...fastQueueEnv, SCALPEL_REDIS_CONNECT_TIMEOUT_MS: '1500' },
  });
  return { status: r.status, stderr: r.stderr, stdout: r.stdout };
}

describe('distributed sweep: refusals, usage errors, Ctrl-C and --status', function () {
  this.timeout(60_000);
  const redis = new RedisServer();
  let restoreEnv = (): void => {};

  before(async () => {
    restoreEnv = withEnv(fastQueueEnv);
    await redis.start();
  });
  after(async () => {
    await redis.kill();
    restoreEnv();
  });

  it("a worker without the recipe's plugin refuses the job clearly, without retries", async () => {
    const cacheDir = tempDir('scalpel-shared-cache-');
    const bare = new WorkerProcess({
      host: 'bare-host',
      redis: redis.url,
      cacheDir,
      recipe: toyRecipe({}),
      withPlugin: false,
    });
    try {
      await bare.ready();
      const dir = project(toyRecipe({ name: 'refused', densities: [0.3] }));
      const s = await bullmqSweep(dir, { redis: redis.url, cacheDir, retries: 2 });
      assert.equal(s.status, 'failed');
      assert.equal(s.trials.failed, 2);
      const trials = parseTrialsJsonl(readFileSync(join(s.dir, 'trials.jsonl'), 'utf8'));
      for (const t of trials) {
        assert.equal(t.nodes['model']?.status, 'failed');
        assert.equal(t.nodes['eval-mag']?.status, 'skipped');
        assert.equal(t.error?.code, 'E_PLUGIN');
        assert.match(
          t.error?.message ?? '',
          /worker bare-host refused the job: plugin '\.\/toy-plugin\.js' is not on this machine/,
        );
        assert.match(t.error?.hint ?? '', /--plugins/);
      }
      const events = readEvents(s.dir);
      const failed = events.filter((e) => e.message === 'node-failed');
      assert.equal(failed.length, 2);
      // Refused once per node: an UnrecoverableError is not retried.
      assert.equal(events.filter((e) => e.message === 'node-started').length, 2);
      assert.equal(events.filter((e) => e.message === 'node-retry').length, 0);
      assert.equal(bare.counter().length, 0);
      assert.ok(bare.alive, 'the worker keeps serving');
    } finally {
      await bare.kill('SIGTERM');
    }
  });

  it('a job of another scalpel version, or not a scalpel job at all, is refused, not run', async () => {
    const cacheDir = tempDir('scalpel-shared-cache-');
    const worker = new WorkerProcess({
      host: 'strict',
      redis: redis.url,
      cacheDir,
      recipe: toyRecipe({}),
    });
    const client = new Redis(redis.url, { maxRetriesPerRequest: null });
    const queue = new Queue(QUEUE_NAME, { connection: client, prefix: KEY_PREFIX });
    const eventsClient = new Redis(redis.url, { maxRetriesPerRequest: null });
    const events = new QueueEvents(QUEUE_NAME, { connection: eventsClient, prefix: KEY_PREFIX });
    try {
      await worker.ready();
      await events.waitUntilReady();
      const text = toyRecipe({});
      const payload: NodeJobPayload = {
        format: JOB_FORMAT,
        sweepId: 'sw0123456789abcdef',
        scalpelVersion: '0.0.0-other',
        recipe: { name: 'sweep.yaml', text, sha256: sha256Text(text), baseDir: '' },
        set: [],
        hash: 'ab'.repeat(32),
        inputs: [],
        stageId: 'model',
        uses: 'toy-model',
        trials: [0],
        backend: undefined,
        plannedBackend: 'cpu',
        plugins: ['./toy-plugin.js'],
        cacheId: cacheIdentity(cacheDir),
        overwrite: false,
      };
      const versioned = await queue.add('model', payload, { jobId: 'version-test', attempts: 3 });
      await assert.rejects(
        versioned.waitUntilFinished(events, 20_000),
        /worker strict refused the job: it needs scalpel 0\.0\.0-other, this worker runs /,
      );
      const malformed = await queue.add('x', { hello: 'world' } as unknown as NodeJobPayload, {
        jobId: 'malformed-test',
        attempts: 3,
      });
      await assert.rejects(malformed.waitUntilFinished(events, 20_000), /malformed scalpel job/);
      // Refusals are not retried.
      for (const id of ['version-test', 'malformed-test'])
        assert.equal((await queue.getJob(id))?.attemptsMade, 1);
      assert.equal(worker.counter().length, 0);
    } finally {
      await events.close();
      await queue.close();
      client.disconnect();
      eventsClient.disconnect();
      await worker.kill('SIGTERM');
    }
  });

  it("a worker whose --cache-dir is not the coordinator's cache refuses the job", async () => {
    const other = new WorkerProcess({
      host: 'elsewhere',
      redis: redis.url,
      cacheDir: tempDir('scalpel-other-cache-'),
      recipe: toyRecipe({}),
    });
    try {
      await other.ready();
      const dir = project(toyRecipe({ name: 'wrong-cache', densities: [0.3] }));
      const s = await bullmqSweep(dir, {
        redis: redis.url,
        cacheDir: tempDir('scalpel-shared-cache-'),
      });
      assert.equal(s.status, 'failed');
      const t = parseTrialsJsonl(readFileSync(join(s.dir, 'trials.jsonl'), 'utf8'))[0];
      assert.match(
        t?.error?.message ?? '',
        /refused the job: its cache is not this worker's --cache-dir/,
      );
      assert.equal(other.counter().length, 0);
    } finally {
      await other.kill('SIGTERM');
    }
  });

  it('with no worker connected the coordinator says so; aborting it removes its jobs', async () => {
    const restore = withEnv({ SCALPEL_NO_WORKER_WARNING_MS: '300' });
    let text = '';
    const stream = new Writable({
      write(chunk: Buffer, _enc, cb) {
        text += chunk.toString();
        cb();
      },
    }) as unknown as NodeJS.WriteStream;
    const controller = new AbortController();
    try {
      const dir = project(toyRecipe({ name: 'lonely', densities: [0.3] }));
      const sweep = runSweep(join(dir, 'sweep.yaml'), {
        cwd: dir,
        cacheDir: tempDir('scalpel-shared-cache-'),
        executor: 'bullmq',
        redis: redis.url,
        terminal: new Terminal(stream, false),
        signal: controller.signal,
        graceMs: 500,
      });
      const deadline = Date.now() + 15_000;
      while (!text.includes('no scalpel worker is connected')) {
        assert.ok(Date.now() < deadline, text);
        await new Promise((r) => setTimeout(r, 50));
      }
      assert.match(text, new RegExp(`start one with \\\`scalpel worker --redis ${redis.url}`));
      controller.abort();
      const s = await sweep;
      assert.equal(s.status, 'interrupted');
      assert.equal(s.exitCode, 130);
      const client = new Redis(redis.url, { maxRetriesPerRequest: null });
      const queue = new Queue(QUEUE_NAME, { connection: client, prefix: KEY_PREFIX });
      try {
        const sweepId = readEvents(s.dir)
          .map((e) =>
            typeof e.data?.['jobId'] === 'string' ? sweepIdOfJob(e.data['jobId']) : undefined,
          )
          .find((id) => id !== undefined);
        assert.ok(sweepId !== undefined);
        const left = await queue.getJobs(['waiting', 'delayed', 'prioritized', 'active'], 0, -1);
        assert.deepEqual(
          left.filter((j) => sweepIdOfJob(j.id ?? '') === sweepId).map((j) => j.id),
          [],
        );
      } finally {
        await queue.close();
        client.disconnect();
      }
    } finally {
      restore();
    }
  });

  it('usage errors name the flag, exit 2 and create no sweep directory', () => {
    const dir = project(toyRecipe({}));
    const noRedis = cli(['sweep', 'sweep.yaml', '--executor', 'bullmq'], dir);
    assert.equal(noRedis.status, 2);
    assert.match(noRedis.stderr, /E_USAGE: --executor bullmq needs --redis <url>/);
    const badUrl = cli(
      ['sweep', 'sweep.yaml', '--executor', 'bullmq', '--redis', 'localhost:6379'],
      dir,
    );
    assert.equal(badUrl.status, 2);
    assert.match(badUrl.stderr, /--redis 'localhost:6379' is not a redis:\/\/ or rediss:\/\/ URL/);
    const down = cli(
      ['sweep', 'sweep.yaml', '--executor', 'bullmq', '--redis', 'redis://127.0.0.1:1'],
      dir,
    );
    assert.equal(down.status, 2);
    assert.match(down.stderr, /cannot reach Redis at redis:\/\/127\.0\.0\.1:1 \(--redis\)/);
    const badExecutor = cli(['sweep', 'sweep.yaml', '--executor', 'celery'], dir);
    assert.equal(badExecutor.status, 2);
    assert.match(badExecutor.stderr, /expected local or bullmq/);
    const worker = cli(['worker', '--redis', redis.url], dir);
    assert.equal(worker.status, 2);
    assert.match(worker.stderr, /scalpel worker needs --cache-dir/);
    assert.ok(!existsSync(join(dir, 'sweeps')), 'a sweep directory was created');
  });

  it('Ctrl-C on the coordinator removes its queued jobs; the same command resumes; --status reads the queue', async () => {
    const cacheDir = tempDir('scalpel-shared-cache-');
    const recipe = toyRecipe({ name: 'interrupted', densities: [0.2, 0.4], pruneSleepMs: 700 });
    const worker = new WorkerProcess({ host: 'solo', redis: redis.url, cacheDir, recipe });
    const dir = project(recipe);
    const args = [
      'sweep',
      'sweep.yaml',
      '--executor',
      'bullmq',
      '--redis',
      redis.url,
      '--cache-dir',
      cacheDir,
    ];
    try {
      await worker.ready();
      const child = spawn(process.execPath, [cliPath, ...args], {
        cwd: dir,
        env: { ...process.env, ...fastQueueEnv },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      let output = '';
      child.stdout.on('data', (b: Buffer) => (output += b.toString()));
      child.stderr.on('data', (b: Buffer) => (output += b.toString()));
      const exited = once(child, 'exit');
      // Interrupt once the worker is on a slow prune stage.
      const deadline = Date.now() + 20_000;
      while (!worker.counter().some((l) => l.startsWith('toy-prune '))) {
        assert.ok(Date.now() < deadline, `no prune stage started:\n${output}`);
        await new Promise((r) => setTimeout(r, 20));
      }
      child.kill('SIGINT');
      const [code] = (await exited) as [number | null];
      assert.equal(code, 130, output);
      const sweepDir = join(dir, 'sweeps', readdirSync(join(dir, 'sweeps'))[0] ?? '');
      const state = JSON.parse(readFileSync(join(sweepDir, 'sweep.json'), 'utf8')) as {
        status: string;
      };
      assert.equal(state.status, 'interrupted');
      // None of this sweep's jobs is left waiting in the queue.
      const sweepId = readEvents(sweepDir)
        .map((e) =>
          typeof e.data?.['jobId'] === 'string' ? sweepIdOfJob(e.data['jobId']) : undefined,
        )
        .find((id) => id !== undefined);
      assert.ok(sweepId !== undefined);
      const client = new Redis(redis.url, { maxRetriesPerRequest: null });
      const queue = new Queue(QUEUE_NAME, { connection: client, prefix: KEY_PREFIX });
      try {
        const waiting = await queue.getJobs(['waiting', 'delayed', 'prioritized'], 0, -1);
        assert.deepEqual(
          waiting.filter((j) => sweepIdOfJob(j.id ?? '') === sweepId).map((j) => j.id),
          [],
        );
      } finally {
        await queue.close();
        client.disconnect();
      }
      const ranBefore = worker.counter().length;

      // The same command resumes the sweep directory; finished nodes come from the cache.
      const again = cli([...args, '--quiet'], dir);
      assert.equal(again.status, 0, again.stderr);
      assert.match(again.stdout, /sweep ok \(resumed\): 4\/4 trials ok/);
      const cached = /nodes: (\d+) distinct, (\d+) ran, (\d+) cached/.exec(again.stdout);
      assert.ok(cached !== null && Number(cached[3]) > 0, again.stdout);
      assert.equal(
        worker.counter().length - ranBefore,
        Number(cached[2]),
        'each remaining node ran once',
      );

      const status = cli(['sweep', 'sweep.yaml', '--status', '--redis', redis.url], dir);
      assert.equal(status.status, 0, status.stderr);
      assert.match(status.stdout, new RegExp(`sweep interrupted \\(${sweepId}, `));
      assert.match(status.stdout, /nodes \d+ done, 0 running, 0 queued, 0 pending, 0 failed/);
      assert.equal((status.stdout.match(/trial \d+: done/g) ?? []).length, 4);
    } finally {
      await worker.kill('SIGTERM');
    }
  });
});
