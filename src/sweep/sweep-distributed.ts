// The glue between runSweep and the bullmq executor (src/distributed): connecting the coordinator
// (loaded on demand, so a local sweep never loads BullMQ), what a job says about the recipe, and
// the manifest `scalpel sweep --status` reads.
import { readFileSync } from 'node:fs';
import { basename, relative, sep } from 'node:path';
import { ErrorCode, ScalpelError } from '../errors.js';
import type { Coordinator, SweepManifest } from '../distributed/coordinator.js';
import {
  JOB_FORMAT,
  sha256Text,
  sweepIdOf,
  type NodeJobPayload,
  type RecipeSource,
} from '../distributed/job-payload.js';
import type { BackendChoice } from '../recipe/types.js';
import { scalpelVersion } from '../util/package-root.js';
import { cacheIdentity } from '../distributed/cache-identity.js';
import type { ExecNode } from '../engine/plan.js';
import type { ExecutionSession } from '../engine/session.js';
import type { SweepGraph, TrialPlan } from './sweep-graph.js';
import type { SweepDefinition } from './sweep-types.js';

export interface DistributedOptions {
  readonly redis?: string | undefined;
  readonly retries?: number | undefined;
}

export async function connectCoordinator(
  fingerprint: string,
  opts: DistributedOptions,
): Promise<Coordinator> {
  if (opts.redis === undefined || opts.redis === '')
    throw new ScalpelError(ErrorCode.Usage, '--executor bullmq needs --redis <url>', {
      hint: 'pass the Redis URL your scalpel workers use, e.g. --redis redis://localhost:6379 (or leave --executor at local)',
    });
  const retries = opts.retries ?? 0;
  if (!Number.isInteger(retries) || retries < 0)
    throw new ScalpelError(
      ErrorCode.Usage,
      `--retries must be a whole number >= 0, got ${retries}`,
    );
  const { Coordinator } = await import('../distributed/coordinator.js');
  return Coordinator.connect({ redis: opts.redis, sweepId: sweepIdOf(fingerprint), retries });
}

/** The recipe as a job carries it: its text, and its base directory relative to `cwd`. */
export function recipeSourceOf(def: SweepDefinition, cwd: string): RecipeSource {
  const text = readFileSync(def.recipeFile, 'utf8');
  const base = relative(cwd, def.base.dir).split(sep).join('/');
  return { name: basename(def.recipeFile), text, sha256: sha256Text(text), baseDir: base };
}

/** The job of one node: `owner` is a trial holding it, whose overrides plan it. */
export function nodePayload(o: {
  readonly def: SweepDefinition;
  readonly graph: SweepGraph;
  readonly node: ExecNode;
  readonly owner: TrialPlan;
  readonly trials: readonly number[];
  readonly recipe: RecipeSource;
  readonly backend: BackendChoice | undefined;
  readonly cacheId: string;
  readonly overwrite: boolean;
}): NodeJobPayload {
  return {
    format: JOB_FORMAT,
    sweepId: sweepIdOf(o.graph.fingerprint),
    scalpelVersion: scalpelVersion(),
    recipe: o.recipe,
    set: [...o.def.baseOverrides, ...o.owner.trial.overrides],
    hash: o.node.key,
    inputs: [...o.node.needs],
    stageId: o.node.stageIds[0] ?? o.node.stage.id,
    uses: o.node.stage.uses,
    trials: [...o.trials],
    backend: o.backend,
    plannedBackend: o.owner.plan.backend,
    plugins: [...o.def.base.plugins],
    cacheId: o.cacheId,
    overwrite: o.overwrite,
  };
}

export function coordinatorCacheId(cacheDir: string): string {
  return cacheIdentity(cacheDir);
}

export async function startCoordinator(
  coordinator: Coordinator,
  def: SweepDefinition,
  graph: SweepGraph,
  nodes: readonly ExecNode[],
  byHash: ReadonlyMap<string, readonly number[]>,
  session: ExecutionSession,
): Promise<void> {
  const manifest: SweepManifest = {
    sweepId: sweepIdOf(graph.fingerprint),
    name: def.name,
    trials: def.trials.length,
    createdAt: new Date().toISOString(),
    nodes: Object.fromEntries(
      nodes.map((n) => [
        n.key,
        { stageId: n.stageIds[0] ?? n.stage.id, trials: [...(byHash.get(n.key) ?? [])] },
      ]),
    ),
  };
  await coordinator.start(manifest, {
    logging: session.logging,
    progress: session.progress,
    cache: session.cache,
  });
}
