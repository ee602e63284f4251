// `runRecipe(recipe | file, opts)`: plan, then schedule the execution graph, then write the run
// record. The library never installs signal handlers or exits: callers pass an AbortSignal (the
// CLI wires Ctrl-C to it) and read the returned summary.
import { join, resolve } from 'node:path';
import { ErrorCode, ExitCode, ScalpelError, asScalpelError, serializeError } from '../errors.js';
import type { Artifact } from '../plugin-api/stage.js';
import type { ResolvedRecipe } from '../recipe/types.js';
import { initBackend } from '../models/backend.js';
import { threadsPerProcess, wasmThreadsFromEnv } from '../models/threads.js';
import { closeDataParallel } from '../parallel/context.js';
import { closeSolvers } from './close-solvers.js';
import {
  planResolved,
  resolveRecipeArg,
  type ExecNode,
  type Plan,
  type PlanOptions,
} from './plan.js';
import { RunRecord, createRunDir, environmentLock, resolvedRecipeYaml } from './run-record.js';
import { type SummaryJson, type SummaryNodeJson } from './run-status-file.js';
import { schedule, type NodeOutcome, type NodeStatus } from './scheduler.js';
import { verbosityOf } from './logging.js';
import { ExecutionSession, consoleOptions, type SessionBackend } from './session.js';
import { WorkerPool } from './worker-pool.js';
import type { Terminal } from './terminal.js';

export interface RunOptions extends PlanOptions {
  /** Nodes running at once (default 1). */
  readonly jobs?: number;
  /**
   * With jobs > 1, run stages in forked worker processes (worker-pool.ts), as sweeps do, so
   * CPU-heavy stages do not share one thread. A worker reloads the recipe from its file with the
   * same --set strings, so this is ignored for a custom `registry` (the CLI sets it).
   */
  readonly workerProcesses?: boolean;
  /** Run directory (default `<cwd>/runs/<name>-<timestamp>/`). */
  readonly out?: string;
  readonly quiet?: boolean;
  readonly verbose?: boolean;
  /** Abort to stop the run (Ctrl-C). */
  readonly signal?: AbortSignal;
  /** How long running stages may take to stop after an abort (default 3000 ms). */
  readonly graceMs?: number;
  /** Console output (default: stderr). */
  readonly terminal?: Terminal;
}

export type RunStatus = 'ok' | 'failed' | 'interrupted';

export interface RunNodeSummary {
  readonly id: string;
  readonly uses: string;
  readonly hash: string;
  readonly status: NodeStatus;
  readonly durationMs: number;
  /** For failed (and interrupted) nodes. */
  readonly error?: ScalpelError;
  /** For skipped nodes: the stage id whose failure caused it, or 'interrupted'. */
  readonly skippedBecause?: string;
  /** What the stage reported, for nodes that ran or came from the cache. */
  readonly metrics?: Readonly<Record<string, unknown>>;
}

export interface RunSummary {
  readonly status: RunStatus;
  readonly exitCode: ExitCode;
  /** The run directory. */
  readonly dir: string;
  readonly startedAt: string;
  readonly finishedAt: string;
  readonly durationMs: number;
  readonly backend: SessionBackend;
  readonly nodes: readonly RunNodeSummary[];
}

function nodeSummaries(
  plan: Plan,
  byKey: Map<string, NodeOutcome>,
  artifacts: ReadonlyMap<string, Artifact>,
): RunNodeSummary[] {
  const idOfKey = new Map(plan.exec.map((n) => [n.key, n.stageIds[0] ?? n.stage.id]));
  return plan.nodes.map((n) => {
    const o = byKey.get(n.hash);
    const status: NodeStatus = o?.status ?? 'skipped';
    const s: RunNodeSummary = {
      id: n.id,
      uses: n.uses,
      hash: n.hash,
      status,
      durationMs: o?.durationMs ?? 0,
    };
    // In-process nodes left their artifact; nodes run in a worker process only their cache entry.
    const metrics =
      artifacts.get(n.hash)?.metrics ??
      (status === 'ran' || status === 'cached'
        ? plan.cache.lookup(n.hash)?.meta.metrics
        : undefined);
    if ((status === 'ran' || status === 'cached') && metrics !== undefined)
      return { ...s, metrics };
    if (o?.error !== undefined) {
      const error =
        o.error instanceof ScalpelError
          ? o.error
          : asScalpelError(o.error, ErrorCode.Internal, `stage '${n.id}'`, { stageId: n.id });
      return { ...s, error };
    }
    if (o?.skipped !== undefined) {
      const because =
        o.skipped.reason === 'failed'
          ? (idOfKey.get(o.skipped.key) ?? o.skipped.key)
          : 'interrupted';
      return { ...s, skippedBecause: because };
    }
    return s;
  });
}

function runStatus(nodes: readonly RunNodeSummary[], aborted: boolean): RunStatus {
  if (aborted || nodes.some((n) => n.status === 'interrupted')) return 'interrupted';
  if (nodes.some((n) => n.status === 'failed' || n.status === 'skipped')) return 'failed';
  return 'ok';
}

const exitCodeOf: Record<RunStatus, ExitCode> = {
  ok: ExitCode.ok,
  failed: ExitCode.stageFailed,
  interrupted: ExitCode.interrupted,
};

/** Run an already planned recipe. */
export async function runPlan(plan: Plan, opts: RunOptions = {}): Promise<RunSummary> {
  const recipe = plan.recipe;
  const started = new Date();
  const cwd = opts.cwd ?? process.cwd();
  const overwrite = opts.noCache === true;
  // An unavailable backend is invalid input (exit 2), not a failed run: report it before a run
  // record exists, so it leaves no directory behind.
  const willRun = opts.signal?.aborted !== true && (plan.nodes.some((n) => !n.cached) || overwrite);
  const jobs = Math.max(1, Math.floor(opts.jobs ?? 1));
  const workerProcesses = opts.workerProcesses === true && jobs > 1 && opts.registry === undefined;
  // Stage processes share the thread budget; in one process, stages take turns on all of it.
  const threads = threadsPerProcess(plan.threadsChoice, workerProcesses ? jobs : 1);
  const earlyBackend = willRun
    ? await initBackend(plan.backendChoice, wasmThreadsFromEnv())
    : undefined;
  const dir = createRunDir({
    out: opts.out !== undefined ? resolve(cwd, opts.out) : undefined,
    runsDir: join(cwd, 'runs'),
    name: recipe.name,
    now: started,
  });
  const record = new RunRecord(dir);
  record.writeText('recipe.resolved.yaml', resolvedRecipeYaml(recipe.resolved, recipe.dir, dir));
  // summary.json says `running` from the start: a run killed before its end leaves a record that
  // says so (run-status-file.ts), not one that looks finished or is missing its summary.
  const finishedNodes = new Map<string, NodeOutcome>();
  const writeRunning = (): void =>
    record.writeJson('summary.json', runningSummary(plan, started, finishedNodes));
  writeRunning();
  const pool = workerProcesses ? new WorkerPool(jobs) : undefined;
  const session = new ExecutionSession({
    eventsFile: record.eventsFile,
    cache: plan.cache,
    backendChoice: plan.backendChoice,
    threads,
    plannedBackend: plan.backend,
    ...(earlyBackend !== undefined ? { initialBackend: earlyBackend } : {}),
    overwrite,
    ...consoleOptions(opts),
    ...(pool !== undefined ? { onAbort: () => pool.abort() } : {}),
  });
  const log = session.log;
  /** Run one node here or in a worker; either way its entry is in the cache afterwards. */
  const execute = async (node: ExecNode): Promise<{ status: 'ran' | 'cached'; outDir: string }> => {
    if (pool === undefined) {
      const r = await session.execute(node);
      return { status: r.status, outDir: r.entry.outDir };
    }
    const hit = overwrite ? undefined : plan.cache.lookup(node.key);
    const status =
      hit !== undefined
        ? 'cached'
        : await pool.run({
            recipeFile: recipe.file,
            set: opts.set ?? [],
            backend: opts.backend,
            threads,
            cacheDir: plan.cache.root,
            hash: node.key,
            overwrite,
            verbosity: verbosityOf(opts),
            eventsFile: record.eventsFile,
          });
    const entry = hit ?? plan.cache.lookup(node.key);
    if (entry === undefined)
      throw new ScalpelError(
        ErrorCode.Internal,
        `stage worker finished node ${node.key.slice(0, 12)} but left no cache entry`,
        { stageId: node.stageIds[0] ?? node.stage.id },
      );
    return { status, outDir: entry.outDir };
  };

  let outcomes = new Map<string, NodeOutcome>();
  // Boxed: what was thrown may be any value; the box says that something was.
  let fatal: { readonly error: unknown } | undefined;
  try {
    log.info(
      `run ${recipe.name} → ${dir}${pool !== undefined ? ` (${jobs} jobs in worker processes)` : ''}`,
    );
    if (recipe.sweep !== undefined)
      log.warn(
        'the recipe has a sweep: section; run runs it once as written (scalpel sweep runs the trials)',
      );
    session.cleanStaleCache();
    // Initialise the backend up front when something will run, so a missing backend is one
    // clear error instead of a failure in every stage.
    if (!session.signal.aborted && (plan.nodes.some((n) => !n.cached) || overwrite))
      await session.ensureBackend();
    outcomes = await schedule<ExecNode>(plan.exec, {
      jobs,
      signal: session.signal,
      ...(opts.graceMs !== undefined ? { graceMs: opts.graceMs } : {}),
      execute: async (node) => {
        const r = await execute(node);
        for (const id of node.stageIds) record.linkArtifacts(id, r.outDir);
        return r.status;
      },
      onOutcome: (node, o) => {
        finishedNodes.set(node.key, o);
        writeRunning();
        const id = node.stageIds.join(', ');
        if (o.status === 'failed') {
          // One line here; the summary prints the error in full (with its hint).
          const e = o.error;
          log.error(
            `failed: ${e instanceof ScalpelError ? `${e.code}: ${e.message}` : String(e)}`,
            { stageId: id },
          );
        } else if (o.status === 'interrupted') log.warn('interrupted', { stageId: id });
        else if (o.status === 'skipped' && o.skipped?.reason === 'failed') {
          log.warn(`skipped: needs a stage that failed`, { stageId: id });
        }
      },
    });
  } catch (e) {
    fatal = { error: e };
  } finally {
    session.stop();
    await pool?.close(opts.graceMs ?? 3000);
    await closeSolvers([recipe.registry], (m) => log.warn(m));
    await closeDataParallel();
  }

  const finished = new Date();
  const nodes = nodeSummaries(plan, outcomes, session.artifacts);
  const status: RunStatus =
    fatal !== undefined ? 'failed' : runStatus(nodes, session.signal.aborted);
  const summary: RunSummary = {
    status,
    exitCode: exitCodeOf[status],
    dir,
    startedAt: started.toISOString(),
    finishedAt: finished.toISOString(),
    durationMs: finished.getTime() - started.getTime(),
    backend: session.backend,
    nodes,
  };
  try {
    writeRecordFiles(record, plan, summary, outcomes, fatal);
  } finally {
    log.info(`run ${status} in ${((finished.getTime() - started.getTime()) / 1000).toFixed(1)}s`);
    await session.close();
  }
  if (fatal !== undefined) throw fatal.error;
  return summary;
}

function writeRecordFiles(
  record: RunRecord,
  plan: Plan,
  summary: RunSummary,
  outcomes: Map<string, NodeOutcome>,
  fatal: { readonly error: unknown } | undefined,
): void {
  const recipe = plan.recipe;
  const metrics: Record<string, unknown> = {};
  for (const n of plan.exec) {
    const entry =
      outcomes.get(n.key)?.status === 'ran' || outcomes.get(n.key)?.status === 'cached'
        ? plan.cache.lookup(n.key)
        : undefined;
    if (entry !== undefined) for (const id of n.stageIds) metrics[id] = entry.meta.metrics;
  }
  record.writeJson('metrics.json', metrics);
  // What the results depend on and how each node was obtained, nothing that differs between
  // checkouts or from one identical run to the next (timings and the cache root: summary.json).
  record.writeJson('lock.json', {
    ...environmentLock(summary.backend, recipe.seed, recipe.file, record.dir),
    nodes: Object.fromEntries(
      plan.nodes.map((n) => [
        n.id,
        {
          uses: n.uses,
          version: n.version,
          hash: n.hash,
          seed: n.seed,
          needs: n.needs,
          ...(n.plugin !== undefined ? { plugin: n.plugin } : {}),
          status: summary.nodes.find((s) => s.id === n.id)?.status ?? 'skipped',
        },
      ]),
    ),
  });
  const final: SummaryJson = {
    status: summary.status,
    startedAt: summary.startedAt,
    finishedAt: summary.finishedAt,
    durationMs: summary.durationMs,
    cache: plan.cache.root,
    ...(fatal !== undefined ? { error: serializeError(fatal.error) } : {}),
    nodes: summary.nodes.map((n) => ({
      id: n.id,
      uses: n.uses,
      hash: n.hash,
      status: n.status,
      durationMs: n.durationMs,
      ...(n.error !== undefined ? { error: serializeError(n.error) } : {}),
      ...(n.skippedBecause !== undefined ? { skippedBecause: n.skippedBecause } : {}),
    })),
  };
  record.writeJson('summary.json', final);
}

/** summary.json while the run is under way: every planned node, finished ones with their status. */
function runningSummary(
  plan: Plan,
  started: Date,
  finished: ReadonlyMap<string, NodeOutcome>,
): SummaryJson {
  const nodes: SummaryNodeJson[] = plan.nodes.map((n) => {
    const o = finished.get(n.hash);
    return {
      id: n.id,
      uses: n.uses,
      hash: n.hash,
      status: o?.status ?? 'pending',
      durationMs: o?.durationMs ?? 0,
    };
  });
  return {
    status: 'running',
    pid: process.pid,
    startedAt: started.toISOString(),
    cache: plan.cache.root,
    nodes,
  };
}

/** `runRecipe(recipe | file, opts)`: the library form of `scalpel run`. */
export async function runRecipe(
  recipe: ResolvedRecipe | string,
  opts: RunOptions = {},
): Promise<RunSummary> {
  const resolved = await resolveRecipeArg(recipe, opts);
  const plan = await planResolved(resolved, opts);
  return runPlan(plan, opts);
}
