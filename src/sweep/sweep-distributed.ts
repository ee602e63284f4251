// The glue between runSweep and the bullmq executor (src/distributed): connecting the coordinator
// (loaded on demand, so a local sweep never loads BullMQ), what a job says about the recipe, and
// the manifest `scalpel sweep --status` reads.
import { readFileSync } from 'node:fs';
import { basename, dirname, relative, sep } from 'node:path';
import { ErrorCode, ScalpelError } from '../errors.js';
import type { Coordinator, SweepManifest } from '../distributed/coordinator.js';
import { sha256Text, sweepIdOf, type RecipeSource } from '../distributed/job-payload.js';
import { cacheIdentity } from '../distributed/cache-identity.js';
import type { ExecNode } from '../engine/plan.js';
import type { ExecutionSession } from '../engine/session.js';
import type { SweepGraph } from './sweep-graph.js';
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

/** The recipe as a job carries it: its text, and its base directory relative to itself. */
export function recipeSourceOf(def: SweepDefinition): RecipeSource {
  const text = readFileSync(def.recipeFile, 'utf8');
  const base = relative(dirname(def.recipeFile), def.base.dir).split(sep).join('/');
  return { name: basename(def.recipeFile), text, sha256: sha256Text(text), baseDir: base };
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
