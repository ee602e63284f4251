// A real StageContext for tests: stage params validated and defaulted against the stage's own
// JSON Schema (ajv, draft 2020-12, as the engine does), inputs read from artifact directories, a
// fresh outDir, a seeded Rng, a logger that records messages. Lets a test call `stage.run(ctx)`
// directly, without the engine.
import { builtinFamilies, builtinFamilyLookup } from '../../src/models/families.js';
import { mkdirSync } from 'node:fs';
import { isAbsolute, join, resolve } from 'node:path';
import { Ajv2020 } from 'ajv/dist/2020.js';
import { ErrorCode, ScalpelError } from '../../src/errors.js';
import { Rng } from '../../src/util/rng.js';
import type {
  Artifact,
  ArtifactKind,
  Logger,
  Progress,
  StageContext,
  StageResult,
  StageType,
} from '../../src/plugin-api/stage.js';
import type { RegistryView } from '../../src/plugin-api/registry-view.js';
import { tempDir } from './paths.js';

export interface LoggedMessage {
  level: 'error' | 'warn' | 'info' | 'debug';
  message: string;
  meta?: Record<string, unknown>;
}

export interface TestStageContext<P> extends StageContext<P> {
  /** Everything the stage logged, in order. */
  readonly logged: LoggedMessage[];
  /** Everything passed to ctx.event. */
  readonly events: { type: string; data: Record<string, unknown> }[];
  /** Progress bars opened: label, total and the last position. */
  readonly progressLog: { label: string; total: number; done: number; finished: boolean }[];
}

export interface StageContextOptions {
  stageId?: string;
  /** Inputs in `needs` order: artifacts (e.g. from `artifactFrom`) */
  inputs?: Artifact[];
  seed?: number;
  recipeDir?: string;
  outDir?: string;
  /** The node's scratch directory (default: a fresh temp path, not created). */
  scratchDir?: string;
  backend?: string;
  registry?: RegistryView;
  signal?: AbortSignal;
}

/** An input artifact as the engine would pass it, for a directory a test (or another stage run) wrote. */
export function artifactFrom(
  kind: ArtifactKind,
  dir: string,
  opts: {
    stageId?: string;
    stageType?: string;
    manifest?: Record<string, unknown>;
    metrics?: Record<string, unknown>;
    hash?: string;
  } = {},
): Artifact {
  return {
    stageId: opts.stageId ?? kind,
    stageType: opts.stageType ?? kind,
    kind,
    hash: opts.hash ?? `test-${kind}`,
    dir,
    manifest: opts.manifest ?? {},
    metrics: opts.metrics ?? {},
  };
}

/** The artifact a finished `stage.run(ctx)` produced, ready to feed into the next stage's context. */
export function artifactOf(ctx: StageContext<unknown>, result: StageResult): Artifact {
  return artifactFrom(result.kind, ctx.outDir, {
    stageId: ctx.stageId,
    stageType: ctx.stageType,
    manifest: result.manifest ?? {},
    metrics: result.metrics ?? {},
  });
}

const emptyRegistry: RegistryView = {
  stage(name) {
    throw new ScalpelError(ErrorCode.UnknownName, `test registry: no stage '${name}'`);
  },
  pruner(name) {
    throw new ScalpelError(ErrorCode.UnknownName, `test registry: no pruner '${name}'`);
  },
  solver(name) {
    throw new ScalpelError(ErrorCode.UnknownName, `test registry: no solver '${name}'`);
  },
  family(name) {
    return builtinFamilyLookup.family(name);
  },
  stageNames: () => [],
  prunerNames: () => [],
  solverNames: () => [],
  familyNames: () => builtinFamilies.map((f) => f.name),
  originOf: () => 'builtin',
};

/** Validate `params` against the stage schema with defaults filled in (throws E_RECIPE_SCHEMA). */
export function resolveParams<P>(stage: StageType<P>, params: Record<string, unknown>): P {
  // As the engine's (src/util/ajv-instance.ts): with the discriminator, defaults fill oneOf branches too.
  const ajv = new Ajv2020({
    useDefaults: true,
    allErrors: true,
    strict: false,
    $data: true,
    discriminator: true,
  });
  const validate = ajv.compile(stage.schema);
  const copy = structuredClone(params);
  if (!validate(copy)) {
    const detail = (validate.errors ?? [])
      .map((e) => `${e.instancePath || '/'} ${e.message ?? ''}`)
      .join('; ');
    throw new ScalpelError(
      ErrorCode.RecipeSchema,
      `params of stage type '${stage.name}' are invalid: ${detail}`,
    );
  }
  return copy as P;
}

/** Build a StageContext for `stage` with schema-checked `params`. */
export function makeStageContext<P>(
  stage: StageType<P>,
  params: Record<string, unknown> = {},
  opts: StageContextOptions = {},
): TestStageContext<P> {
  const resolved = resolveParams(stage, params);
  const seedParam = (resolved as { seed?: unknown }).seed;
  const seed = typeof seedParam === 'number' ? seedParam : (opts.seed ?? 0);
  const stageId = opts.stageId ?? stage.name;
  const inputs = opts.inputs ?? [];
  const recipeDir = opts.recipeDir ?? tempDir('scalpel-recipe-');
  const outDir = opts.outDir ?? join(tempDir('scalpel-stage-'), 'out');
  mkdirSync(outDir, { recursive: true });
  const scratchDir = opts.scratchDir ?? join(tempDir('scalpel-scratch-'), 'scratch');
  const logged: LoggedMessage[] = [];
  const events: { type: string; data: Record<string, unknown> }[] = [];
  const progressLog: { label: string; total: number; done: number; finished: boolean }[] = [];
  const logAt =
    (level: LoggedMessage['level']) =>
    (message: string, meta?: Record<string, unknown>): void => {
      logged.push(meta === undefined ? { level, message } : { level, message, meta });
    };
  const log: Logger = {
    error: logAt('error'),
    warn: logAt('warn'),
    info: logAt('info'),
    debug: logAt('debug'),
  };
  const inputsOfKind = (kind: ArtifactKind): Artifact[] => inputs.filter((a) => a.kind === kind);
  return {
    stageId,
    stageType: stage.name,
    params: resolved,
    inputs,
    input(kind) {
      const found = inputsOfKind(kind);
      if (found.length !== 1) {
        throw new ScalpelError(
          ErrorCode.Stage,
          `stage '${stageId}' needs exactly one input of kind '${kind}', got ${found.length}`,
          { stageId },
        );
      }
      return found[0] as Artifact;
    },
    inputsOfKind,
    scratchDir,
    outDir,
    seed,
    rng: new Rng(seed),
    recipeDir,
    resolvePath: (p) => (isAbsolute(p) ? p : resolve(recipeDir, p)),
    log,
    progress(label, total): Progress {
      const entry = { label, total, done: 0, finished: false };
      progressLog.push(entry);
      return {
        tick: (n = 1) => void (entry.done += n),
        update: (done) => void (entry.done = done),
        done: () => void (entry.finished = true),
      };
    },
    event: (type, data) => void events.push({ type, data }),
    signal: opts.signal ?? new AbortController().signal,
    backend: opts.backend ?? 'wasm',
    registry: opts.registry ?? emptyRegistry,
    logged,
    events,
    progressLog,
  };
}

/** Run a stage with a fresh context and return both (convenience for chaining stages in tests). */
export async function runStage<P>(
  stage: StageType<P>,
  params: Record<string, unknown>,
  opts: StageContextOptions = {},
): Promise<{ ctx: TestStageContext<P>; result: StageResult; artifact: Artifact }> {
  const ctx = makeStageContext(stage, params, opts);
  const result = await stage.run(ctx);
  return { ctx, result, artifact: artifactOf(ctx as StageContext<unknown>, result) };
}
