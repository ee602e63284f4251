// Workers as separate processes (`node dist/src/cli/main.js worker …`), each with its own working
// directory, host identity and copy of the project's files, against one Redis and one shared cache.
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { copyFileSync, existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { runSweep, type SweepSummary } from '../../src/sweep/sweep-run.js';
import { cliPath, repoRoot, tempDir } from '../helpers/paths.js';
import { sweepFixtures } from '../sweep/helpers.js';

export const distFixtures = join(repoRoot, 'test', 'distributed', 'fixtures');

/** Fast stall detection and lease expiry, for workers and the in-process coordinator alike. */
export const fastQueueEnv: Record<string, string> = {
  SCALPEL_QUEUE_LOCK_MS: '1500',
  SCALPEL_QUEUE_STALLED_MS: '1000',
  SCALPEL_QUEUE_BACKOFF_MS: '200',
  SCALPEL_LEASE_TTL_MS: '2000',
};

/** A project directory: the toy plugin (unless `withPlugin` is false), the flaky plugin and a recipe. */
export function project(recipe: string, opts: { withPlugin?: boolean } = {}): string {
  const dir = tempDir('scalpel-dist-');
  if (opts.withPlugin !== false) {
    copyFileSync(join(sweepFixtures, 'toy-plugin.js'), join(dir, 'toy-plugin.js'));
    copyFileSync(join(distFixtures, 'flaky-plugin.js'), join(dir, 'flaky-plugin.js'));
  }
  writeFileSync(join(dir, 'sweep.yaml'), recipe);
  return dir;
}

/** The toy recipe with these densities and 2 repeats (2 × values trials). */
export function toyRecipe(opts: {
  name?: string;
  densities?: readonly number[];
  modelSleepMs?: number;
  pruneSleepMs?: number;
}): string {
  let text = readFileSync(join(sweepFixtures, 'toy-sweep.yaml'), 'utf8');
  if (opts.name !== undefined) text = text.replace('name: toy-sweep', `name: ${opts.name}`);
  if (opts.densities !== undefined)
    text = text.replace('values: [0.1, 0.3, 0.6]', `values: [${opts.densities.join(', ')}]`);
  if (opts.modelSleepMs !== undefined)
    text = text.replace(
      'model: { uses: toy-model }',
      `model: { uses: toy-model, with: { sleepMs: ${opts.modelSleepMs} } }`,
    );
  if (opts.pruneSleepMs !== undefined)
    text = text.replace(
      /method: (magnitude|random), density: 0.5/g,
      `method: $1, density: 0.5, sleepMs: ${opts.pruneSleepMs}`,
    );
  return text;
}

/** `scalpel sweep <dir>/<file> --executor bullmq` run from `dir`, quietly. */
export function bullmqSweep(
  dir: string,
  o: { redis: string; cacheDir: string; retries?: number; file?: string },
): Promise<SweepSummary> {
  return runSweep(join(dir, o.file ?? 'sweep.yaml'), {
    cwd: dir,
    cacheDir: o.cacheDir,
    executor: 'bullmq',
    redis: o.redis,
    quiet: true,
    ...(o.retries !== undefined ? { retries: o.retries } : {}),
  });
}

export class WorkerProcess {
  readonly host: string;
  readonly dir: string;
  readonly child: ChildProcess;
  output = '';
  private readonly exited: Promise<unknown>;

  constructor(opts: {
    host: string;
    redis: string;
    cacheDir: string;
    recipe: string;
    withPlugin?: boolean;
  }) {
    this.host = opts.host;
    this.dir = project(
      opts.recipe,
      opts.withPlugin !== undefined ? { withPlugin: opts.withPlugin } : {},
    );
    this.child = spawn(
      process.execPath,
      [
        cliPath,
        'worker',
        '--redis',
        opts.redis,
        '--cache-dir',
        opts.cacheDir,
        '--plugins',
        this.dir,
      ],
      {
        cwd: this.dir,
        env: { ...process.env, ...fastQueueEnv, SCALPEL_HOST_ID: opts.host },
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    const add = (b: Buffer): void => {
      this.output += b.toString('utf8');
    };
    this.child.stdout?.on('data', add);
    this.child.stderr?.on('data', add);
    this.exited = once(this.child, 'exit');
  }

  async ready(): Promise<void> {
    const deadline = Date.now() + 20_000;
    while (!this.output.includes(`worker ${this.host}: ready`)) {
      if (this.child.exitCode !== null || Date.now() > deadline)
        throw new Error(`worker ${this.host} did not start:\n${this.output}`);
      await new Promise((r) => setTimeout(r, 50));
    }
  }

  /** Lines of this worker's counter file: what really ran here. */
  counter(): string[] {
    const f = join(this.dir, 'counter.txt');
    return existsSync(f)
      ? readFileSync(f, 'utf8')
          .split('\n')
          .filter((l) => l !== '')
      : [];
  }

  get alive(): boolean {
    return this.child.exitCode === null && this.child.signalCode === null;
  }

  async kill(signal: NodeJS.Signals = 'SIGKILL'): Promise<void> {
    if (!this.alive) return;
    this.child.kill(signal);
    await this.exited;
  }
}

/** The first worker whose counter shows it starting the model stage from now on (20 s at most). */
export async function workerStartingModel(
  workers: readonly WorkerProcess[],
): Promise<WorkerProcess> {
  const seen = new Map(workers.map((w) => [w, w.counter().length]));
  const deadline = Date.now() + 20_000;
  for (;;) {
    const victim = workers.find((w) =>
      w
        .counter()
        .slice(seen.get(w))
        .some((l) => l.startsWith('toy-model ')),
    );
    if (victim !== undefined) return victim;
    assert.ok(Date.now() < deadline, 'no worker started the model stage');
    await new Promise((r) => setTimeout(r, 20));
  }
}

export async function startWorkers(
  n: number,
  opts: { redis: string; cacheDir: string; recipe: string; prefix?: string },
): Promise<WorkerProcess[]> {
  const workers = Array.from(
    { length: n },
    (_, i) =>
      new WorkerProcess({
        host: `${opts.prefix ?? 'host'}-${i + 1}`,
        redis: opts.redis,
        cacheDir: opts.cacheDir,
        recipe: opts.recipe,
      }),
  );
  await Promise.all(workers.map((w) => w.ready()));
  return workers;
}

/** Set env variables for the in-process coordinator; returns a function restoring them. */
export function withEnv(vars: Record<string, string>): () => void {
  const saved = Object.fromEntries(Object.keys(vars).map((k) => [k, process.env[k]]));
  Object.assign(process.env, vars);
  return () => {
    for (const [k, v] of Object.entries(saved)) {
      if (v === undefined) delete process.env[k];
      else process.env[k] = v;
    }
  };
}

export interface EventLine {
  readonly message: string;
  readonly stageId?: string;
  readonly record?: string;
  readonly data?: Record<string, unknown>;
}

export function readEvents(sweepDir: string): EventLine[] {
  return readFileSync(join(sweepDir, 'events.jsonl'), 'utf8')
    .split('\n')
    .filter((l) => l.trim() !== '')
    .map((l) => JSON.parse(l) as EventLine);
}
