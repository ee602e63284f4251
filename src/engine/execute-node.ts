// Executing one node of the plan: a cache hit becomes an Artifact without running anything;
// otherwise the stage runs in a private temp directory that becomes a cache entry only when the
// stage returned successfully and the run was not interrupted meanwhile. A hit is re-hashed
// first: an entry whose files were changed (through a run record's hard link) is rebuilt with a
// warning, so damaged data is never handed to a stage or linked into another record.
import { rmSync } from 'node:fs';
import { ErrorCode, ScalpelError } from '../errors.js';
import type { Artifact, StageResult } from '../plugin-api/stage.js';
import type { Cache, CacheEntry } from './cache.js';
import type { RunLogging } from './logging.js';
import type { ExecNode } from './plan.js';
import type { ProgressSink } from './progress.js';
import { createStageContext } from './stage-context.js';
import { wrapStageError } from '../registry/stage-error.js';
import { formatDuration } from './progress.js';

export interface ExecEnv {
  readonly cache: Cache;
  readonly logging: RunLogging;
  readonly progress: ProgressSink;
  readonly signal: AbortSignal;
  /** Recompute even if cached, and replace the entry (--no-cache / --force). */
  readonly overwrite: boolean;
  /** Initialises the tfjs backend once; resolves to its name. */
  ensureBackend(): Promise<string>;
  /** Outputs of finished nodes, by hash. */
  readonly artifacts: Map<string, Artifact>;
}

export interface ExecResult {
  readonly status: 'ran' | 'cached';
  readonly entry: CacheEntry;
}

/** A cache entry as the artifact downstream stages see (named after the node's first stage id). */
export function artifactOf(node: ExecNode, entry: CacheEntry): Artifact {
  return {
    stageId: node.stageIds[0] ?? node.stage.id,
    stageType: node.stage.uses,
    kind: entry.meta.kind,
    hash: entry.hash,
    dir: entry.outDir,
    manifest: entry.meta.manifest,
    metrics: entry.meta.metrics,
  };
}

/** Plain JSON copy of what a stage returned (manifest/metrics end up in entry.json). */
function jsonObject(v: unknown, what: string, node: ExecNode): Record<string, unknown> {
  if (v === undefined) return {};
  let copy: unknown;
  try {
    copy = JSON.parse(JSON.stringify(v)) as unknown;
  } catch (e) {
    throw new ScalpelError(
      ErrorCode.Stage,
      `stage '${node.stage.id}' returned a ${what} that is not JSON: ${String(e)}`,
      {
        stageId: node.stage.id,
      },
    );
  }
  if (copy === null || typeof copy !== 'object' || Array.isArray(copy)) {
    throw new ScalpelError(
      ErrorCode.Stage,
      `stage '${node.stage.id}' returned a ${what} that is not an object`,
      {
        stageId: node.stage.id,
      },
    );
  }
  return copy as Record<string, unknown>;
}

function checkResult(result: unknown, node: ExecNode): StageResult {
  const type = node.stage.type;
  if (
    result === null ||
    typeof result !== 'object' ||
    typeof (result as StageResult).kind !== 'string'
  ) {
    throw new ScalpelError(
      ErrorCode.Stage,
      `stage '${node.stage.id}' (${type.name}) returned no { kind } result`,
      {
        stageId: node.stage.id,
        hint: 'run(ctx) must resolve to { kind, manifest?, metrics? }',
      },
    );
  }
  const r = result as StageResult;
  if (r.kind !== type.output) {
    throw new ScalpelError(
      ErrorCode.Stage,
      `stage '${node.stage.id}' returned kind '${r.kind}' but stage type '${type.name}' declares output '${type.output}'`,
      { stageId: node.stage.id },
    );
  }
  return r;
}

export async function executeNode(node: ExecNode, env: ExecEnv): Promise<ExecResult> {
  const id = node.stage.id;
  const log = env.logging.forStage(id);
  let damaged = false;
  if (!env.overwrite) {
    const hit = env.cache.lookup(node.key);
    const problem =
      hit !== undefined ? await env.cache.verify(hit) : await env.cache.problem(node.key);
    if (hit !== undefined && problem === undefined) {
      env.artifacts.set(node.key, artifactOf(node, hit));
      log.info(`cached (${node.stage.uses}, ${node.key.slice(0, 12)})`);
      return { status: 'cached', entry: hit };
    }
    if (problem !== undefined) {
      damaged = true;
      log.warn(
        `cache entry ${node.key.slice(0, 12)} is damaged: ${problem} (files in run records are ` +
          `hard links into the cache; copy a file before editing it). Rebuilding the entry.`,
      );
    }
  }
  const backend = await env.ensureBackend();
  const inputs = node.inputs.map((h) => {
    const a = env.artifacts.get(h);
    if (a === undefined)
      throw new ScalpelError(ErrorCode.Internal, `input ${h} of '${id}' is not available`);
    return a;
  });
  const pending = env.cache.begin(node.key);
  log.debug(`hash ${node.key}: not cached, building in ${pending.tmpDir}`);
  const ctx = createStageContext({
    stageId: id,
    stageType: node.stage.uses,
    params: structuredClone(node.stage.params),
    inputs,
    outDir: pending.outDir,
    scratchDir: env.cache.scratchDir(node.key),
    seed: node.seed,
    recipeDir: node.recipeDir,
    logging: env.logging,
    progress: env.progress,
    signal: env.signal,
    backend,
    registry: node.registry,
  });
  const startedAt = new Date();
  log.info(`running (${node.stage.uses})`);
  let entry: CacheEntry;
  try {
    const raw: unknown = await node.stage.type.run(ctx);
    if (env.signal.aborted) {
      throw new ScalpelError(ErrorCode.Interrupted, `stage '${id}' was interrupted`, {
        stageId: id,
      });
    }
    const result = checkResult(raw, node);
    const finishedAt = new Date();
    entry = env.cache.commit(
      pending,
      {
        kind: result.kind,
        stageType: node.stage.type.name,
        stageVersion: node.stage.type.version,
        manifest: jsonObject(result.manifest, 'manifest', node),
        metrics: jsonObject(result.metrics, 'metrics', node),
        timings: {
          startedAt: startedAt.toISOString(),
          finishedAt: finishedAt.toISOString(),
          durationMs: finishedAt.getTime() - startedAt.getTime(),
        },
      },
      // A damaged entry must be replaced, not kept as if another process had just written it.
      { overwrite: env.overwrite || damaged },
    );
  } catch (e) {
    env.cache.discard(pending);
    throw wrapStageError(e, { stageId: id, stageType: node.stage.uses, plugin: node.plugin });
  }
  rmSync(ctx.scratchDir, { recursive: true, force: true });
  env.artifacts.set(node.key, artifactOf(node, entry));
  log.info(`done in ${formatDuration(Date.now() - startedAt.getTime())}`);
  return { status: 'ran', entry };
}
