// Entry point of a stage worker process (forked by worker-pool.ts; used by sweeps, and meant for
// `run --jobs N` too). tfjs keeps its backend and memory per process, so CPU-heavy stages run in
// separate processes and neither starve each other nor the parent's event loop. One task at a time; recipes and plans are
// memoised because consecutive tasks usually come from the same trials.
import type { Artifact } from '../plugin-api/stage.js';
import { initBackend } from '../models/backend.js';
import { loadRecipe } from '../recipe/load-recipe.js';
import { ErrorCode, ScalpelError, serializeError } from '../errors.js';
import { Cache } from './cache.js';
import { closeSolvers } from './close-solvers.js';
import { executeNode } from './execute-node.js';
import { RunLogging } from './logging.js';
import { planResolved, type Plan } from './plan.js';
import { ProgressSink } from './progress.js';
import { Terminal } from './terminal.js';
import { type FromWorker, type ToWorker, type WorkerTask } from './worker-protocol.js';

const plans = new Map<string, Promise<Plan>>();
const loggers = new Map<string, RunLogging>();
let backend: Promise<string> | undefined;
let current: AbortController | undefined;

function send(msg: FromWorker): void {
  process.send?.(msg);
}

function planFor(task: WorkerTask): Promise<Plan> {
  const key = JSON.stringify([task.recipeFile, task.set, task.backend, task.cacheDir]);
  let p = plans.get(key);
  if (p === undefined) {
    p = loadRecipe(task.recipeFile, {
      set: task.set,
      ...(task.backend !== undefined ? { backend: task.backend } : {}),
    }).then((r) => planResolved(r, { cacheDir: task.cacheDir, noCache: true }));
    p.catch(() => plans.delete(key));
    plans.set(key, p);
  }
  return p;
}

function loggingFor(task: WorkerTask): RunLogging {
  let l = loggers.get(task.eventsFile);
  if (l === undefined) {
    // Plain lines on the inherited stderr: the parent owns the terminal (and its progress bars).
    l = new RunLogging({
      terminal: new Terminal(process.stderr, false),
      verbosity: task.verbosity,
      eventsFile: task.eventsFile,
    });
    loggers.set(task.eventsFile, l);
  }
  return l;
}

async function runTask(task: WorkerTask): Promise<'ran' | 'cached'> {
  const plan = await planFor(task);
  const node = plan.exec.find((n) => n.key === task.hash);
  if (node === undefined) {
    throw new ScalpelError(
      ErrorCode.Internal,
      `stage worker: node ${task.hash.slice(0, 12)} is not in the plan of ${task.recipeFile}`,
    );
  }
  const cache = new Cache(task.cacheDir);
  const artifacts = new Map<string, Artifact>();
  for (const h of node.needs) {
    const entry = cache.lookup(h);
    const producer = plan.exec.find((n) => n.key === h);
    if (entry === undefined || producer === undefined) {
      throw new ScalpelError(
        ErrorCode.Internal,
        `stage worker: input ${h.slice(0, 12)} of '${node.stage.id}' is not in the cache`,
      );
    }
    artifacts.set(h, {
      stageId: producer.stageIds[0] ?? producer.stage.id,
      stageType: producer.stage.uses,
      kind: entry.meta.kind,
      hash: h,
      dir: entry.outDir,
      manifest: entry.meta.manifest,
      metrics: entry.meta.metrics,
    });
  }
  const logging = loggingFor(task);
  const controller = new AbortController();
  current = controller;
  try {
    const r = await executeNode(node, {
      cache,
      logging,
      progress: new ProgressSink({
        terminal: new Terminal(process.stderr, false),
        console: task.verbosity !== 'quiet',
        record: (stageId, data) => logging.progress(stageId, data),
      }),
      signal: controller.signal,
      overwrite: task.overwrite,
      ensureBackend: () => {
        backend ??= initBackend(plan.backendChoice).then((info) => info.name);
        return backend;
      },
      artifacts,
    });
    return r.status;
  } finally {
    current = undefined;
  }
}

process.on('message', (msg: ToWorker) => {
  if (msg.type === 'abort') {
    current?.abort();
    return;
  }
  runTask(msg).then(
    (status) => send({ type: 'done', id: msg.id, status }),
    (e: unknown) => send({ type: 'error', id: msg.id, error: serializeError(e) }),
  );
});

// The sweep process went away (finished, crashed or was killed): stop at once. A stage that was
// running leaves only a temp directory, which the next run's cache.cleanStale() removes.
process.on('disconnect', () => {
  current?.abort();
  void Promise.all([closeAllSolvers(), ...[...loggers.values()].map((l) => l.close())]).finally(
    () => process.exit(0),
  );
  setTimeout(() => process.exit(0), 500).unref();
});

/** Close the solvers of every plan this worker loaded (their registries hold plugins' solvers). */
async function closeAllSolvers(): Promise<void> {
  const loaded = await Promise.allSettled(plans.values());
  const registries = loaded.flatMap((p) =>
    p.status === 'fulfilled' ? [p.value.recipe.registry] : [],
  );
  await closeSolvers(registries, (m) => process.stderr.write(`warning: ${m}\n`));
}
process.on('SIGINT', () => current?.abort()); // Ctrl-C reaches the whole process group; the parent decides.

send({ type: 'ready' });
