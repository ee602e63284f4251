// `runSweep(file | definition, opts)`: the library form of `scalpel sweep`. Validate and plan
// every trial first (nothing is created before that succeeds), merge the trials into one graph
// keyed by node hash, pick the sweep directory (new, or an unfinished one to resume), then run the
// graph with bounded concurrency: in this process for --jobs 1, in worker processes otherwise, or
// (executor 'bullmq') as jobs for `scalpel worker`s through Redis (src/distributed). A trial is
// recorded in trials.jsonl the moment its last node finishes.
import { join, resolve } from 'node:path';
import { ErrorCode, ExitCode, ScalpelError, serializeError } from '../errors.js';
import { loadSweep, type LoadSweepOptions } from './sweep-load.js';
import type { SweepDefinition } from './sweep-types.js';
import type { BackendChoice } from '../recipe/types.js';
import { formatCombination } from './sweep-spec.js';
import { Cache, resolveCacheRoot } from '../engine/cache.js';
import { verbosityOf } from '../engine/logging.js';
import { ExecutionSession, consoleOptions } from '../engine/session.js';
import type { ExecNode } from '../engine/plan.js';
import { closeSolvers } from '../engine/close-solvers.js';
import { closeDataParallel } from '../parallel/context.js';
import { sha256FileSync } from '../util/file-hash.js';
import { createRunDir, environmentLock, recordPath } from '../engine/run-record.js';
import { schedule, type NodeOutcome } from '../engine/scheduler.js';
import {
  mergeTrials,
  planSweep,
  trialsByHash,
  type SweepGraph,
  type TrialPlan,
} from './sweep-graph.js';
import { SWEEP_FORMAT, SweepRecord, type SweepStatus, type TrialRecord } from './sweep-record.js';
import { checkResumeDir, findResumable } from './sweep-resume.js';
import {
  connectCoordinator,
  coordinatorCacheId,
  nodePayload,
  recipeSourceOf,
  startCoordinator,
} from './sweep-distributed.js';
import { WorkerPool } from '../engine/worker-pool.js';
import { defaultThreads, threadsPerProcess } from '../models/threads.js';
import type { Terminal } from '../engine/terminal.js';
import { existsSync, readdirSync, rmSync } from 'node:fs';
import { acquireLease, leaseState, releaseLease } from '../engine/cache-lease.js';
import { hostId } from '../util/host-id.js';
import { sweepLeaseFile } from './sweep-resume.js';
import type { Coordinator } from '../distributed/coordinator.js';

export interface SweepRunOptions extends LoadSweepOptions {
  /** Nodes running at once (default 1). With more than 1, stages run in worker processes. */
  readonly jobs?: number;
  /** Resume this sweep directory. */
  readonly resume?: string;
  /** Sweep directory (default `<cwd>/sweeps/<name>-<timestamp>/`). */
  readonly out?: string;
  /** Recompute every node and replace its cache entry. */
  readonly noCache?: boolean;
  readonly cacheDir?: string;
  /** Base for sweeps/ and the default cache (default process.cwd()). */
  readonly cwd?: string;
  readonly quiet?: boolean;
  readonly verbose?: boolean;
  readonly signal?: AbortSignal;
  readonly graceMs?: number;
  readonly terminal?: Terminal;
  /** Run stages in this process even with jobs > 1 (tests, plugins that cannot be re-imported). */
  readonly inProcess?: boolean;
  /** Where nodes run: here (default) or on `scalpel worker`s through BullMQ (docs/distributed.md). */
  readonly executor?: 'local' | 'bullmq';
  /** Redis URL of the bullmq executor. */
  readonly redis?: string;
  /** bullmq executor: retries of a failed stage (default 0). */
  readonly retries?: number;
}

export interface SweepSummary {
  readonly status: SweepStatus;
  readonly exitCode: ExitCode;
  readonly dir: string;
  /** True when an unfinished sweep directory was continued. */
  readonly resumed: boolean;
  readonly trials: {
    total: number;
    ok: number;
    failed: number;
    unfinished: number;
    alreadyDone: number;
  };
  readonly nodes: { total: number; ran: number; cached: number; failed: number; skipped: number };
  readonly durationMs: number;
}

/** Pick (and if needed create) the sweep directory. */
function openSweepDir(
  def: SweepDefinition,
  graph: SweepGraph,
  opts: SweepRunOptions,
  cwd: string,
): { record: SweepRecord; resumed: boolean } {
  if (opts.resume !== undefined)
    return { record: checkResumeDir(resolve(cwd, opts.resume), graph.fingerprint), resumed: true };
  if (opts.out !== undefined) {
    const out = resolve(cwd, opts.out);
    if (
      existsSync(out) &&
      readdirSync(out).length > 0 &&
      new SweepRecord(out).readState()?.fingerprint === graph.fingerprint
    ) {
      return { record: checkResumeDir(out, graph.fingerprint), resumed: true };
    }
  }
  const sweepsDir = join(cwd, 'sweeps');
  if (opts.out === undefined) {
    const found = findResumable(sweepsDir, def.name, graph.fingerprint);
    if (found !== undefined)
      return { record: checkResumeDir(found, graph.fingerprint), resumed: true };
  }
  const dir = createRunDir({
    out: opts.out !== undefined ? resolve(cwd, opts.out) : undefined,
    runsDir: sweepsDir,
    name: def.name,
    now: new Date(),
  });
  return { record: new SweepRecord(dir), resumed: false };
}

function resolvedDoc(def: SweepDefinition): Record<string, unknown> {
  return {
    name: def.name,
    file: def.file,
    recipe: def.recipeFile,
    set: def.baseOverrides,
    sweep: def.spec.resolved,
    trials: def.trials.map((t) => ({
      index: t.index,
      parameters: t.parameters,
      repeat: t.repeat,
      seed: t.seed,
      overrides: t.overrides,
    })),
    recipeResolved: def.base.resolved,
  };
}

function lockDoc(
  def: SweepDefinition,
  graph: SweepGraph,
  cache: Cache,
  backend: { name: string; versions: Record<string, string> },
  outcomes: Map<string, NodeOutcome>,
  recordDir: string,
): Record<string, unknown> {
  const nodes: Record<string, unknown> = {};
  for (const t of graph.trials) {
    for (const n of t.plan.nodes) {
      const existing = nodes[n.hash] as { stageIds: string[]; trials: number[] } | undefined;
      if (existing !== undefined) {
        if (!existing.stageIds.includes(n.id)) existing.stageIds.push(n.id);
        if (!existing.trials.includes(t.trial.index)) existing.trials.push(t.trial.index);
        continue;
      }
      nodes[n.hash] = {
        uses: n.uses,
        version: n.version,
        seed: n.seed,
        ...(n.plugin !== undefined ? { plugin: n.plugin } : {}),
        stageIds: [n.id],
        trials: [t.trial.index],
        status:
          outcomes.get(n.hash)?.status ??
          (cache.lookup(n.hash) !== undefined ? 'cached' : 'pending'),
      };
    }
  }
  return {
    ...environmentLock(backend, def.base.seed, def.recipeFile, recordDir),
    ...(def.file !== def.recipeFile
      ? { sweepFile: { file: recordPath(recordDir, def.file), sha256: sha256FileSync(def.file) } }
      : {}),
    fingerprint: graph.fingerprint,
    nodes,
  };
}

/** Build the record of a trial whose nodes all have outcomes; undefined when it was interrupted. */
function trialRecord(
  t: TrialPlan,
  outcomes: Map<string, NodeOutcome>,
  cache: Cache,
  nodeName: Map<string, string>,
): TrialRecord | undefined {
  const nodes: Record<string, TrialRecord['nodes'][string]> = {};
  const metrics: Record<string, unknown> = {};
  let failed: unknown;
  let failedStage: string | undefined;
  let interrupted = false;
  let started = Infinity;
  let finished = 0;
  const paramsOf = new Map(t.trial.recipe.stages.map((s) => [s.id, s.params]));
  for (const n of t.plan.nodes) {
    const o = outcomes.get(n.hash);
    if (o === undefined || o.status === 'interrupted' || o.skipped?.reason === 'interrupted')
      interrupted = true;
    const entry = o?.status === 'ran' || o?.status === 'cached' ? cache.lookup(n.hash) : undefined;
    if (o?.startedAt !== undefined) {
      started = Math.min(started, o.startedAt);
      finished = Math.max(finished, o.startedAt + o.durationMs);
    }
    if (o?.status === 'failed' && failed === undefined) {
      failed = o.error;
      failedStage = n.id;
    }
    if (o?.status === 'skipped' && o.skipped?.reason === 'failed' && failed === undefined) {
      failed = new ScalpelError(
        ErrorCode.Stage,
        `skipped: needs '${nodeName.get(o.skipped.key) ?? o.skipped.key}', which failed`,
        { stageId: n.id },
      );
      failedStage = n.id;
    }
    nodes[n.id] = {
      uses: n.uses,
      hash: n.hash,
      needs: n.needs,
      params: paramsOf.get(n.id) ?? {},
      status: o?.status ?? 'pending',
      durationMs: o?.durationMs ?? 0,
      ...(entry !== undefined ? { computeMs: entry.meta.timings.durationMs } : {}),
    };
    if (entry !== undefined) metrics[n.id] = entry.meta.metrics;
  }
  if (interrupted && failed === undefined) return undefined;
  const now = Date.now();
  if (!Number.isFinite(started)) started = now;
  if (finished === 0) finished = now;
  const tr = t.trial;
  const error = failed !== undefined ? serializeError(failed) : undefined;
  return {
    index: tr.index,
    parameters: tr.parameters,
    repeat: tr.repeat,
    seed: tr.seed,
    overrides: tr.overrides,
    status: failed === undefined ? 'ok' : 'failed',
    startedAt: new Date(started).toISOString(),
    finishedAt: new Date(finished).toISOString(),
    durationMs: finished - started,
    nodes,
    metrics,
    ...(error !== undefined
      ? { error: { ...error, stageId: error.stageId ?? failedStage ?? '' } }
      : {}),
  };
}

export async function runSweep(
  input: SweepDefinition | string,
  opts: SweepRunOptions = {},
): Promise<SweepSummary> {
  const started = Date.now();
  const cwd = opts.cwd ?? process.cwd();
  const def = typeof input === 'string' ? await loadSweep(input, opts) : input;
  const cacheDir = resolveCacheRoot({ cacheDir: opts.cacheDir, cwd });
  const overwrite = opts.noCache === true;
  const graph = await planSweep(def, { backend: opts.backend, noCache: overwrite, cacheDir, cwd });
  const cache = new Cache(cacheDir);
  const distributed = opts.executor === 'bullmq';
  // Connect before anything is written: a wrong --redis leaves no sweep directory behind.
  const coordinator: Coordinator | undefined = distributed
    ? await connectCoordinator(graph.fingerprint, opts)
    : undefined;
  const jobs = distributed
    ? Math.max(
        1,
        graph.trials.reduce((n, t) => n + t.hashes.size, 0),
      )
    : Math.max(1, Math.floor(opts.jobs ?? 1));

  // Everything is validated and planned: only now is anything written.
  let opened: { record: SweepRecord; resumed: boolean };
  try {
    opened = openSweepDir(def, graph, opts, cwd);
  } catch (e) {
    await coordinator?.close();
    throw e;
  }
  const { record, resumed } = opened;
  // Held while this process works on the directory (resume detection on any host).
  const leaseFile = sweepLeaseFile(record.dir);
  const leased = leaseState(leaseFile);
  if (leased === 'live' || leased === 'mine') {
    await coordinator?.close();
    throw new ScalpelError(ErrorCode.Sweep, `another process is running ${record.dir}`, {
      hint: 'wait for it to finish, or stop it first',
    });
  }
  if (leased === 'stale') rmSync(leaseFile, { force: true });
  acquireLease(leaseFile);
  const previous = resumed ? record.readTrials() : [];
  const validIndex = new Set(def.trials.map((t) => t.index));
  const kept = previous.filter((r) => r.status === 'ok' && validIndex.has(r.index));
  const done = new Set(kept.map((r) => r.index));
  record.resetTrials(kept);
  const createdAt =
    (resumed ? record.readState()?.createdAt : undefined) ?? new Date(started).toISOString();
  const writeState = (status: SweepStatus): void =>
    record.writeState({
      format: SWEEP_FORMAT,
      name: def.name,
      fingerprint: graph.fingerprint,
      file: def.file,
      recipeFile: def.recipeFile,
      trials: def.trials.length,
      status,
      pid: process.pid,
      host: hostId(),
      createdAt,
      updatedAt: new Date().toISOString(),
    });
  writeState('running');
  record.writeYaml('sweep.resolved.yaml', resolvedDoc(def));

  const pending = graph.trials.filter((t) => !done.has(t.trial.index));
  const nodes = mergeTrials(pending);
  const byHash = trialsByHash(pending);
  const trialOf = new Map(pending.map((t) => [t.trial.index, t]));
  const nodeName = new Map(nodes.map((n) => [n.key, n.stageIds[0] ?? n.stage.id]));
  const outcomes = new Map<string, NodeOutcome>();
  const finalized = new Set<number>();
  const counts = { ok: kept.length, failed: 0 };
  const useWorkers = !distributed && jobs > 1 && opts.inProcess !== true;
  const pool = useWorkers ? new WorkerPool(jobs) : undefined;
  const backendChoice: BackendChoice = opts.backend ?? def.base.backend;
  // Trial processes share the thread budget (threads.ts).
  const threads = threadsPerProcess(
    opts.threads ?? def.base.threads ?? defaultThreads,
    pool ? jobs : 1,
  );
  const session = new ExecutionSession({
    eventsFile: record.eventsFile,
    cache,
    backendChoice,
    threads,
    plannedBackend: graph.trials[0]?.plan.backend ?? backendChoice,
    overwrite,
    ...consoleOptions(opts),
    ...(pool !== undefined ? { onAbort: () => pool.abort() } : {}),
    ...(coordinator !== undefined ? { onAbort: () => void coordinator.abort() } : {}),
  });
  const log = session.log;

  const finalize = (t: TrialPlan): void => {
    const rec = trialRecord(t, outcomes, cache, nodeName);
    finalized.add(t.trial.index);
    if (rec === undefined) return;
    record.appendTrial(rec);
    if (rec.status === 'ok') counts.ok++;
    else counts.failed++;
    const what = `trial ${t.trial.index} (${formatCombination(t.trial.parameters)}${def.spec.repeats > 1 ? `, seed ${t.trial.seed}` : ''})`;
    const tally = `[${counts.ok + counts.failed}/${def.trials.length}]`;
    if (rec.status === 'ok') log.info(`${what} ok ${tally}`);
    else
      log.error(
        `${what} failed at '${rec.error?.stageId ?? '?'}': ${rec.error?.message ?? ''} ${tally}`,
      );
  };

  const recipeSource = distributed ? recipeSourceOf(def, cwd) : undefined;
  const cacheId = coordinator !== undefined ? coordinatorCacheId(cacheDir) : '';
  const execute = async (node: ExecNode): Promise<'ran' | 'cached'> => {
    if (pool === undefined && coordinator === undefined)
      return (await session.execute(node)).status;
    if (!overwrite && cache.lookup(node.key) !== undefined) {
      coordinator?.noteCached(node.key);
      return 'cached';
    }
    const owner = trialOf.get(byHash.get(node.key)?.[0] ?? -1);
    if (owner === undefined)
      throw new ScalpelError(
        ErrorCode.Internal,
        `sweep: node ${node.key.slice(0, 12)} belongs to no trial`,
      );
    if (coordinator !== undefined && recipeSource !== undefined) {
      return coordinator.run(
        nodePayload({
          def,
          graph,
          node,
          owner,
          trials: byHash.get(node.key) ?? [],
          recipe: recipeSource,
          backend: opts.backend,
          cacheId,
          overwrite,
        }),
      );
    }
    if (pool === undefined)
      throw new ScalpelError(ErrorCode.Internal, 'sweep: no executor for the node');
    return pool.run({
      recipeFile: def.recipeFile,
      set: [...def.baseOverrides, ...owner.trial.overrides],
      backend: opts.backend,
      threads,
      cacheDir,
      hash: node.key,
      overwrite,
      verbosity: verbosityOf(opts),
      eventsFile: record.eventsFile,
    });
  };

  // Boxed: what was thrown may be any value; the box says that something was.
  let fatal: { readonly error: unknown } | undefined;
  try {
    const shared = nodes.length < pending.reduce((s, t) => s + t.hashes.size, 0);
    log.info(
      `sweep ${def.name} → ${record.dir}: ${def.trials.length} trials${done.size > 0 ? ` (${done.size} already done)` : ''}, ${nodes.length} distinct nodes${shared ? ' (shared stages run once)' : ''}, ${coordinator !== undefined ? 'bullmq executor' : `${jobs} job${jobs === 1 ? '' : 's'}${pool !== undefined ? ' in worker processes' : ''}`}`,
    );
    session.cleanStaleCache();
    if (coordinator !== undefined) {
      await startCoordinator(coordinator, def, graph, nodes, byHash, session);
      log.info(`nodes go to the scalpel workers of ${coordinator.redisUrl}`);
    }
    if (
      pool === undefined &&
      coordinator === undefined &&
      nodes.some((n) => overwrite || cache.lookup(n.key) === undefined)
    )
      await session.ensureBackend();
    await schedule<ExecNode>(nodes, {
      jobs,
      signal: session.signal,
      ...(opts.graceMs !== undefined ? { graceMs: opts.graceMs } : {}),
      execute,
      onOutcome: (node, o) => {
        outcomes.set(node.key, o);
        if (o.status === 'failed')
          log.error(o.error instanceof ScalpelError ? o.error.format() : String(o.error), {
            stageId: node.stageIds[0],
          });
        for (const index of byHash.get(node.key) ?? []) {
          const t = trialOf.get(index);
          if (t === undefined || finalized.has(index)) continue;
          if ([...t.hashes].every((h) => outcomes.has(h))) finalize(t);
        }
      },
    });
  } catch (e) {
    fatal = { error: e };
  } finally {
    session.stop();
    await pool?.close(opts.graceMs ?? 3000);
    await coordinator?.close();
    // A worker that died mid-node left a temp entry whose lease has expired by now, usually.
    if (coordinator !== undefined) session.cleanStaleCache();
    // Stages that ran in this process (jobs 1) used these registries' solvers; the worker
    // processes close their own (sweep-worker.ts).
    await closeSolvers(
      nodes.map((n) => n.registry),
      (m) => log.warn(m),
    );
    await closeDataParallel();
  }

  const all = record.readTrials();
  const unfinished = def.trials.length - all.length;
  const status: SweepStatus =
    fatal !== undefined
      ? 'failed'
      : session.signal.aborted || unfinished > 0
        ? 'interrupted'
        : all.some((r) => r.status === 'failed')
          ? 'failed'
          : 'ok';
  const exitCode =
    status === 'ok'
      ? ExitCode.ok
      : status === 'interrupted'
        ? ExitCode.interrupted
        : ExitCode.stageFailed;
  const statuses = [...outcomes.values()].map((o) => o.status);
  const summary: SweepSummary = {
    status,
    exitCode,
    dir: record.dir,
    resumed,
    trials: {
      total: def.trials.length,
      ok: all.filter((r) => r.status === 'ok').length,
      failed: all.filter((r) => r.status === 'failed').length,
      unfinished,
      alreadyDone: done.size,
    },
    nodes: {
      total: nodes.length,
      ran: statuses.filter((s) => s === 'ran').length,
      cached: statuses.filter((s) => s === 'cached').length,
      failed: statuses.filter((s) => s === 'failed').length,
      skipped: statuses.filter((s) => s === 'skipped' || s === 'interrupted').length,
    },
    durationMs: Date.now() - started,
  };
  try {
    record.writeResults(
      def.name,
      def.spec.parameters.map((p) => p.name),
      all,
    );
    record.writeJson(
      'lock.json',
      lockDoc(def, graph, cache, session.backend, outcomes, record.dir),
    );
    record.writeJson('summary.json', {
      ...summary,
      cache: cache.root, // in the summary, not the lock: the lock must not name this machine's paths
      executor: distributed ? 'bullmq' : 'local',
      ...(fatal !== undefined ? { error: serializeError(fatal.error) } : {}),
    });
    writeState(status);
  } finally {
    releaseLease(leaseFile);
    log.info(
      `sweep ${status}: ${summary.trials.ok} ok, ${summary.trials.failed} failed${unfinished > 0 ? `, ${unfinished} unfinished (run the same command again to resume)` : ''}; nodes ${summary.nodes.ran} ran, ${summary.nodes.cached} cached — ${record.dir}`,
    );
    await session.close();
  }
  if (fatal !== undefined) throw fatal.error;
  return summary;
}
