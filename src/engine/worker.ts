// Entry point of a stage worker process (forked by worker-pool.ts for `run --jobs N` and
// `sweep --jobs N`). tfjs keeps its backend and memory per process, so CPU-heavy stages run in
// separate processes and neither starve each other nor the parent's event loop. One task at a
// time, executed through the same ExecutionSession as in-process nodes; recipes and plans are
// memoised because consecutive tasks usually come from the same trials.
import { loadRecipe } from '../recipe/load-recipe.js';
import { ErrorCode, ScalpelError, serializeError } from '../errors.js';
import { Cache } from './cache.js';
import { closeSolvers } from './close-solvers.js';
import { closeDataParallel } from '../parallel/context.js';
import { planResolved, type Plan } from './plan.js';
import { ExecutionSession } from './session.js';
import { Terminal } from './terminal.js';
import { type FromWorker, type ToWorker, type WorkerTask } from './worker-protocol.js';

const plans = new Map<string, Promise<Plan>>();
/** One session per run or sweep this worker serves (in practice one: a pool belongs to a run). */
const sessions = new Map<string, ExecutionSession>();

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

/**
 * The session of the task's run: logging into its events.jsonl, plain lines on the inherited
 * stderr (the parent owns the terminal and its progress bars), the backend initialised once.
 */
function sessionFor(task: WorkerTask, plan: Plan): ExecutionSession {
  const key = JSON.stringify([
    task.eventsFile,
    task.cacheDir,
    task.overwrite,
    task.verbosity,
    task.threads,
  ]);
  let session = sessions.get(key);
  if (session === undefined) {
    session = new ExecutionSession({
      eventsFile: task.eventsFile,
      cache: new Cache(task.cacheDir),
      backendChoice: plan.backendChoice,
      threads: task.threads,
      plannedBackend: plan.backend,
      overwrite: task.overwrite,
      terminal: new Terminal(process.stderr, false),
      quiet: task.verbosity === 'quiet',
      verbose: task.verbosity === 'verbose',
      announceBackend: false,
    });
    sessions.set(key, session);
  }
  return session;
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
  const session = sessionFor(task, plan);
  session.adoptInputs(node, plan.exec);
  return (await session.execute(node)).status;
}

/** Stop the running stage: the parent aborts only when its whole run or sweep stops. */
function abortAll(): void {
  for (const session of sessions.values()) session.abort();
}

process.on('message', (msg: ToWorker) => {
  if (msg.type === 'abort') {
    abortAll();
    return;
  }
  runTask(msg).then(
    (status) => send({ type: 'done', id: msg.id, status }),
    (e: unknown) => send({ type: 'error', id: msg.id, error: serializeError(e) }),
  );
});

// The parent process went away (finished, crashed or was killed): stop at once. A stage that was
// running leaves only a temp directory, which the next run's cache.cleanStale() removes.
process.on('disconnect', () => {
  abortAll();
  const closing = [...sessions.values()].map((s) => {
    s.stop();
    return s.close();
  });
  void Promise.all([closeAllSolvers(), ...closing]).finally(() => process.exit(0));
  setTimeout(() => process.exit(0), 500).unref();
});

/** Close the solvers of every plan this worker loaded (their registries hold plugins' solvers). */
async function closeAllSolvers(): Promise<void> {
  const loaded = await Promise.allSettled(plans.values());
  const registries = loaded.flatMap((p) =>
    p.status === 'fulfilled' ? [p.value.recipe.registry] : [],
  );
  await closeSolvers(registries, (m) => process.stderr.write(`warning: ${m}\n`));
  await closeDataParallel();
}
process.on('SIGINT', abortAll); // Ctrl-C reaches the whole process group; the parent decides.

send({ type: 'ready' });
