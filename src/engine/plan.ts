// From a resolved recipe to a plan: every stage's node hash (computed in dependency order, since a
// hash covers the hashes of its inputs) and whether the cache already holds it. The plan also
// carries the execution graph the scheduler runs: nodes keyed by hash, needs as hashes, so stages
// that compute the same thing (within a recipe, or across the trials of a sweep) run once.
import { ErrorCode, ScalpelError } from '../errors.js';
import type { RegistryView } from '../plugin-api/registry-view.js';
import type {
  BackendChoice,
  LoadRecipeOptions,
  ResolvedRecipe,
  ResolvedStage,
  ThreadsChoice,
} from '../recipe/types.js';
import { loadRecipe } from '../recipe/load-recipe.js';
import { resolveBackendName } from '../models/backend.js';
import { Cache, resolveCacheRoot } from './cache.js';
import { buildDag } from '../recipe/dag.js';
import { nodeHash } from './hash.js';
import type { SchedulerNode } from './scheduler.js';
import { stageFingerprint } from '../recipe/fingerprint.js';
import { stageSeed } from './stage-context.js';
import { wrapStageError } from '../registry/stage-error.js';
import { defaultThreads } from '../models/threads.js';

export interface PlanOptions {
  /** `--set path=value` overrides (only when a file is given). */
  readonly set?: readonly string[];
  /** Overrides the recipe's backend. */
  readonly backend?: BackendChoice;
  /** Overrides the recipe's `threads` (--threads). */
  readonly threads?: ThreadsChoice;
  /** Recompute every node (`--no-cache` / `--force`): nothing counts as cached. */
  readonly noCache?: boolean;
  /** Cache root (default $SCALPEL_CACHE_DIR, else `<cwd>/.scalpel`). */
  readonly cacheDir?: string;
  /** Base for the default cache root and run directories (default process.cwd()). */
  readonly cwd?: string;
  /** Registry to load the recipe with (tests); see LoadRecipeOptions. */
  readonly registry?: LoadRecipeOptions['registry'];
}

/** One stage of the recipe as planned. */
export interface PlanNode {
  readonly id: string;
  readonly uses: string;
  readonly version: string;
  readonly hash: string;
  /** Stage ids, as in the recipe. */
  readonly needs: readonly string[];
  readonly cached: boolean;
  readonly seed: number;
  /** The plugin the stage type comes from; undefined for built-ins. */
  readonly plugin: string | undefined;
}

/** A unit of execution: one hash, possibly shared by several stage ids. */
export interface ExecNode extends SchedulerNode {
  /** The node hash. */
  readonly key: string;
  /** Hashes of the inputs in `needs` order (may repeat). */
  readonly inputs: readonly string[];
  /** Distinct input hashes. */
  readonly needs: readonly string[];
  readonly stage: ResolvedStage;
  /** Every stage id with this hash; the first names the node in logs. */
  readonly stageIds: string[];
  readonly seed: number;
  readonly recipeDir: string;
  readonly registry: RegistryView;
  readonly plugin: string | undefined;
}

export interface Plan {
  readonly recipe: ResolvedRecipe;
  /** The backend name that went into the hashes. */
  readonly backend: string;
  readonly backendChoice: BackendChoice;
  /** The run's thread budget: not hashed (threads change no result), recorded in lock.json. */
  readonly threadsChoice: ThreadsChoice;
  readonly cache: Cache;
  /** Stages in dependency order (stable: file order where the graph allows). */
  readonly nodes: readonly PlanNode[];
  /** The execution graph, in dependency order. */
  readonly exec: readonly ExecNode[];
}

/** Load a recipe file (with overrides) or take an already resolved recipe. */
export async function resolveRecipeArg(
  recipe: ResolvedRecipe | string,
  opts: Pick<PlanOptions, 'set' | 'backend' | 'threads' | 'registry'>,
): Promise<ResolvedRecipe> {
  if (typeof recipe !== 'string') return recipe;
  return loadRecipe(recipe, {
    ...(opts.set !== undefined ? { set: opts.set } : {}),
    ...(opts.backend !== undefined ? { backend: opts.backend } : {}),
    ...(opts.threads !== undefined ? { threads: opts.threads } : {}),
    ...(opts.registry !== undefined ? { registry: opts.registry } : {}),
  });
}

function originOf(registry: RegistryView, uses: string): string | undefined {
  const origin = registry.originOf('stage', uses);
  return origin === 'builtin' ? undefined : origin;
}

/** Hash every stage of a resolved recipe and check the cache. */
export async function planResolved(recipe: ResolvedRecipe, opts: PlanOptions = {}): Promise<Plan> {
  const backendChoice = opts.backend ?? recipe.backend;
  const backend = resolveBackendName(backendChoice);
  const threadsChoice = opts.threads ?? recipe.threads ?? defaultThreads;
  const cache = new Cache(resolveCacheRoot({ cacheDir: opts.cacheDir, cwd: opts.cwd }));
  const hashes = new Map<string, string>();
  const nodes: PlanNode[] = [];
  const exec = new Map<string, ExecNode>();
  const recipeDir = recipe.dir;

  // buildDag re-checks the graph (a caller may hand us a recipe it built itself) and gives a
  // stable dependency order, so a stage's inputs are always hashed before it.
  for (const { stage } of buildDag(recipe).order) {
    const type = stage.type;
    const plugin = originOf(recipe.registry, stage.uses);
    const fingerprint = await stageFingerprint(recipe, stage);
    const inputs = stage.needs.map((id) => {
      const h = hashes.get(id);
      if (h === undefined)
        throw new ScalpelError(ErrorCode.Internal, `plan: '${id}' not hashed before '${stage.id}'`);
      return h;
    });
    const seed = stageSeed(stage.params, recipe.seed);
    let hash: string;
    try {
      hash = nodeHash({
        stageType: type.name,
        stageVersion: type.version,
        params: stage.params,
        fingerprint,
        inputs,
        seed,
        backend,
      });
    } catch (e) {
      throw wrapStageError(e, { stageId: stage.id, stageType: stage.uses, plugin });
    }
    hashes.set(stage.id, hash);
    const cached = opts.noCache !== true && cache.lookup(hash) !== undefined;
    nodes.push({
      id: stage.id,
      uses: stage.uses,
      version: type.version,
      hash,
      needs: [...stage.needs],
      cached,
      seed,
      plugin,
    });
    const existing = exec.get(hash);
    if (existing !== undefined) existing.stageIds.push(stage.id);
    else {
      exec.set(hash, {
        key: hash,
        inputs,
        needs: [...new Set(inputs)],
        stage,
        stageIds: [stage.id],
        seed,
        recipeDir,
        registry: recipe.registry,
        plugin,
      });
    }
  }
  return {
    recipe,
    backend,
    backendChoice,
    threadsChoice,
    cache,
    nodes,
    exec: [...exec.values()],
  };
}

/** `planRecipe(recipe | file, opts)`: the library form of `scalpel plan`. */
export async function planRecipe(
  recipe: ResolvedRecipe | string,
  opts: PlanOptions = {},
): Promise<Plan> {
  return planResolved(await resolveRecipeArg(recipe, opts), opts);
}
