// `scalpel worker`: a BullMQ Worker on the shared `nodes` queue. A job is one node of some sweep
// (job-payload.ts); the worker checks it can run it (scalpel version, shared cache, recipe
// integrity, plugins, backend, identical node hash) and refuses with UnrecoverableError when it
// cannot, then runs it through the same ExecutionSession path as a local run, committing into the
// shared cache. Stage failures are ordinary errors (BullMQ retries them up to the job's attempts);
// both carry the serialized ScalpelError in the failure reason. A worker asked to stop puts its
// running jobs back in the queue for another worker.
import { existsSync, mkdirSync } from 'node:fs';
import { basename, join, resolve } from 'node:path';
import { UnrecoverableError, WaitingError, Worker, type Job } from 'bullmq';
import { ErrorCode, ScalpelError, serializeError } from '../errors.js';
import { Cache } from '../engine/cache.js';
import { closeSolvers } from '../engine/close-solvers.js';
import { closeDataParallel } from '../parallel/context.js';
import { planResolved, type Plan } from '../engine/plan.js';
import { ExecutionSession } from '../engine/session.js';
import { Terminal } from '../engine/terminal.js';
import { loadRecipe } from '../recipe/load-recipe.js';
import { defaultThreads, threadsPerProcess, type ThreadsChoice } from '../models/threads.js';
import { isPathSpecifier } from '../registry/plugin-loader.js';
import { writeFileAtomicSync } from '../util/atomic-file.js';
import { hostId } from '../util/host-id.js';
import { scalpelVersion } from '../util/package-root.js';
import { cacheIdentity } from './cache-identity.js';
import {
  KEY_PREFIX,
  QUEUE_NAME,
  abandonKey,
  encodeFailure,
  parsePayload,
  sha256Text,
  type NodeJobPayload,
  type NodeJobProgress,
  type NodeJobResult,
} from './job-payload.js';
import { RedisClients, redactedUrl } from './redis-connection.js';
import { queueTiming } from './queue-timing.js';

export interface NodeWorkerOptions {
  readonly redis: string;
  readonly cacheDir: string;
  /** Jobs at once in this process (default 1). */
  readonly concurrency?: number;
  /** Where the files a recipe names relative to itself (plugins, data) are on this machine. */
  readonly pluginsDir: string;
  /** This worker's own directory (recipe copies, events.jsonl). */
  readonly workDir: string;
  /** Data-parallel thread budget of this worker (default auto), shared by its concurrent jobs. */
  readonly threads?: ThreadsChoice;
  readonly quiet?: boolean;
  readonly verbose?: boolean;
  /** Aborting stops the worker (running jobs go back to the queue). */
  readonly signal: AbortSignal;
  readonly terminal?: Terminal;
}

type JobData = NodeJobPayload;

/** A refusal: the job cannot run on this worker, and retrying it here would not help. */
function refuse(
  message: string,
  hint: string,
  code: ErrorCode = ErrorCode.Usage,
): UnrecoverableError {
  const host = hostId();
  return new UnrecoverableError(
    encodeFailure(
      serializeError(
        new ScalpelError(code, `worker ${host} refused the job: ${message}`, { hint }),
      ),
    ),
  );
}

export async function runNodeWorker(opts: NodeWorkerOptions): Promise<void> {
  const host = hostId();
  const terminal = opts.terminal ?? new Terminal(process.stderr, false);
  const say = (line: string): void => {
    if (opts.quiet !== true) terminal.write(`worker ${host}: ${line}\n`);
  };
  const cache = new Cache(resolve(opts.cacheDir));
  const ownCacheId = cacheIdentity(cache.root);
  const pluginsDir = resolve(opts.pluginsDir);
  const workDir = resolve(opts.workDir);
  mkdirSync(join(workDir, 'recipes'), { recursive: true });
  const eventsFile = join(workDir, 'events.jsonl');
  const plans = new Map<string, Promise<Plan>>();
  const running = new Set<AbortController>();
  let stopping = false;

  const clients = new RedisClients(opts.redis);
  const connection = clients.create('worker');
  await clients.ready(connection);

  const planFor = (p: NodeJobPayload, file: string, baseDir: string): Promise<Plan> => {
    const key = JSON.stringify([file, p.set, p.backend, baseDir]);
    let plan = plans.get(key);
    if (plan === undefined) {
      plan = loadRecipe(file, {
        // The recipe's relative paths resolve on this machine, against --plugins.
        set: [`baseDir=${JSON.stringify(baseDir)}`, ...p.set],
        ...(p.backend !== undefined && p.backend !== null ? { backend: p.backend } : {}),
      }).then((r) => planResolved(r, { cacheDir: cache.root, noCache: true }));
      plan.catch(() => plans.delete(key));
      plans.set(key, plan);
    }
    return plan;
  };

  /** Everything before the stage runs; a problem here is a refusal. */
  const prepare = async (p: NodeJobPayload): Promise<Plan> => {
    const mine = scalpelVersion();
    if (p.scalpelVersion !== mine)
      throw refuse(
        `it needs scalpel ${p.scalpelVersion}, this worker runs ${mine}`,
        'install the same scalpel version on the coordinator and every worker',
      );
    if (p.cacheId !== ownCacheId)
      throw refuse(
        `its cache is not this worker's --cache-dir ${cache.root}`,
        "mount the coordinator's shared cache directory on this machine and pass it as --cache-dir",
      );
    if (sha256Text(p.recipe.text) !== p.recipe.sha256)
      throw refuse(
        'the recipe text does not match its sha256',
        'requeue the sweep',
        ErrorCode.Internal,
      );
    const baseDir = resolve(pluginsDir, p.recipe.baseDir);
    for (const spec of p.plugins) {
      if (isPathSpecifier(spec) && !existsSync(resolve(baseDir, spec)))
        throw refuse(
          `plugin '${spec}' is not on this machine (looked for ${resolve(baseDir, spec)})`,
          `start the worker with --plugins <its copy of the directory the coordinator runs in>, holding ${spec} where the recipe names it`,
          ErrorCode.Plugin,
        );
    }
    const file = join(
      workDir,
      'recipes',
      `${p.recipe.sha256.slice(0, 16)}-${basename(p.recipe.name)}`,
    );
    if (!existsSync(file)) writeFileAtomicSync(file, p.recipe.text);
    let plan: Plan;
    try {
      plan = await planFor(p, file, baseDir);
    } catch (e) {
      const err = e instanceof ScalpelError ? e : undefined;
      throw refuse(
        `cannot load the recipe: ${err?.format() ?? String(e)}`,
        'the worker needs the plugins and input files the recipe names, under --plugins (its copy of the directory the coordinator runs in)',
        err?.code ?? ErrorCode.Internal,
      );
    }
    if (plan.backend !== p.plannedBackend)
      throw refuse(
        `the sweep's nodes are hashed for backend '${p.plannedBackend}', this worker would use '${plan.backend}'`,
        'run the workers with the backend the coordinator plans for (same --backend, same installed backends)',
        ErrorCode.Backend,
      );
    if (!plan.exec.some((n) => n.key === p.hash))
      throw refuse(
        `node ${p.hash.slice(0, 12)} ('${p.stageId}') is not in this worker's plan of the recipe`,
        "its plugin versions or the recipe's input files under --plugins differ from the coordinator's",
      );
    for (const h of p.inputs) {
      if (cache.lookup(h) === undefined)
        throw refuse(
          `input ${h.slice(0, 12)} of '${p.stageId}' is not in ${cache.root}`,
          "is --cache-dir the coordinator's shared cache, fully mounted?",
          ErrorCode.Io,
        );
    }
    return plan;
  };

  const processor = async (
    job: Job<JobData, NodeJobResult>,
    token?: string,
  ): Promise<NodeJobResult> => {
    let payload: NodeJobPayload;
    try {
      payload = parsePayload(job.data);
    } catch (e) {
      throw new UnrecoverableError(encodeFailure(serializeError(e)));
    }
    const start: NodeJobProgress = {
      type: 'start',
      host,
      pid: process.pid,
      attempt: job.attemptsMade + 1,
    };
    await job.updateProgress(start);
    const removed = cache.cleanStale();
    if (removed > 0)
      say(`removed ${removed} unfinished cache entr${removed === 1 ? 'y' : 'ies'} of dead workers`);
    const plan = await prepare(payload);
    const node = plan.exec.find((n) => n.key === payload.hash);
    if (node === undefined) throw refuse('node vanished from the plan', '', ErrorCode.Internal);

    const controller = new AbortController();
    running.add(controller);
    let abandoned = false;
    const poll = setInterval(() => {
      connection.exists(abandonKey(payload.sweepId)).then(
        (n) => {
          if (n > 0 && !controller.signal.aborted) {
            abandoned = true;
            controller.abort();
          }
        },
        () => {},
      );
    }, 1000);
    const session = new ExecutionSession({
      eventsFile,
      cache,
      backendChoice: plan.backendChoice,
      threads: threadsPerProcess(opts.threads ?? defaultThreads, opts.concurrency ?? 1),
      plannedBackend: plan.backend,
      overwrite: payload.overwrite,
      terminal,
      ...(opts.quiet !== undefined ? { quiet: opts.quiet } : {}),
      ...(opts.verbose !== undefined ? { verbose: opts.verbose } : {}),
      signal: controller.signal,
      announceBackend: false,
      onProgress: (stageId, data) => {
        const msg: NodeJobProgress = {
          type: 'progress',
          stageId,
          label: typeof data['label'] === 'string' ? data['label'] : '',
          done: typeof data['done'] === 'number' ? data['done'] : 0,
          total: typeof data['total'] === 'number' ? data['total'] : 0,
        };
        job.updateProgress(msg).catch(() => {});
      },
    });
    try {
      session.adoptInputs(node, plan.exec);
      const { status } = await session.execute(node);
      say(`${payload.stageId} ${status} (${payload.hash.slice(0, 12)})`);
      return { status, host, pid: process.pid };
    } catch (e) {
      if (stopping && !abandoned && token !== undefined) {
        // This worker is shutting down: the job goes back to the queue for another worker.
        await job.moveToWait(token);
        throw new WaitingError();
      }
      if (abandoned)
        throw new UnrecoverableError(
          encodeFailure(
            serializeError(
              new ScalpelError(
                ErrorCode.Interrupted,
                `the coordinator stopped the sweep; '${payload.stageId}' was abandoned`,
              ),
            ),
          ),
        );
      say(`${payload.stageId} failed (attempt ${job.attemptsMade + 1})`);
      throw new Error(encodeFailure(serializeError(e)));
    } finally {
      clearInterval(poll);
      running.delete(controller);
      session.stop();
      await session.close();
    }
  };

  const timing = queueTiming();
  const worker = new Worker<JobData, NodeJobResult>(QUEUE_NAME, processor, {
    connection,
    prefix: KEY_PREFIX,
    concurrency: Math.max(1, Math.floor(opts.concurrency ?? 1)),
    lockDuration: timing.lockDurationMs,
    stalledInterval: timing.stalledIntervalMs,
    maxStalledCount: timing.maxStalledCount,
    autorun: false,
  });
  let lastError = 0;
  worker.on('error', (e: Error) => {
    // Connection losses and a lost lock after a Redis restart: reported, waited out.
    if (Date.now() - lastError > 5000) say(`redis: ${e.message}`);
    lastError = Date.now();
  });
  void worker.run();
  say(
    `ready (redis ${redactedUrl(clients.url)}, cache ${cache.root}, plugins ${pluginsDir}, concurrency ${opts.concurrency ?? 1})`,
  );

  if (!opts.signal.aborted)
    await new Promise<void>((res) =>
      opts.signal.addEventListener('abort', () => res(), { once: true }),
    );
  stopping = true;
  say('stopping: running jobs go back to the queue');
  for (const c of running) c.abort();
  await worker.close();
  const loaded = await Promise.allSettled(plans.values());
  await closeSolvers(
    loaded.flatMap((p) => (p.status === 'fulfilled' ? [p.value.recipe.registry] : [])),
    (m) => say(`warning: ${m}`),
  );
  await closeDataParallel();
  await clients.closeAll();
}
