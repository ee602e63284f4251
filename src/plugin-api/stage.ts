// The stage-type contract. Built-in stages (src/stages) and plugin stages implement exactly this;
// the engine (src/engine) is the only caller of `run`.
import type { Rng } from './rng.js';
import type { JsonSchema } from './schema.js';
import type { RegistryView } from './registry-view.js';

/** What a stage produces. Stages find their inputs by kind (`ctx.input('model')`). */
export type ArtifactKind =
  | 'model' // src/models/model-artifact.ts: model.json + weights.bin (+ masks)
  | 'dataset' // src/data/dataset-artifact.ts: splits as binary arrays + meta.json
  | 'calibration' // src/stages/calibrate: per-layer statistics for pruners
  | 'metrics' // evaluate: nothing but metrics
  | 'export' // export: files meant for the user
  | 'tokenizer' // train-tokenizer: tokenizer.json + tokenizer_config.json
  | 'tasks' // build-lm-tasks: zero-shot task files (jsonl)
  | (string & {}); // plugin-defined kinds

/** A finished stage's output as downstream stages see it. `dir` is read-only (a cache entry). */
export interface Artifact {
  readonly stageId: string;
  readonly stageType: string;
  readonly kind: ArtifactKind;
  /** The node hash; equal hashes mean equal outputs. */
  readonly hash: string;
  /** Directory holding the stage's files. Never write into it. */
  readonly dir: string;
  /** The JSON the stage returned as `manifest`. */
  readonly manifest: Readonly<Record<string, unknown>>;
  readonly metrics: Readonly<Record<string, unknown>>;
}

/** Minimal structured logger (the engine passes a winston child logger tagged with the stage). */
export interface Logger {
  error(message: string, meta?: Record<string, unknown>): unknown;
  warn(message: string, meta?: Record<string, unknown>): unknown;
  info(message: string, meta?: Record<string, unknown>): unknown;
  debug(message: string, meta?: Record<string, unknown>): unknown;
}

/** One progress API for every long stage: a bar on a TTY, plain lines otherwise. */
export interface Progress {
  /** Advance by `n` (default 1); `info` is shown beside the bar (e.g. `{ dL: -0.013 }`). */
  tick(n?: number, info?: Record<string, string | number>): void;
  /** Set the absolute position. */
  update(done: number, info?: Record<string, string | number>): void;
  /** Finish (idempotent). */
  done(): void;
}

export interface StageContext<P = Record<string, unknown>> {
  readonly stageId: string;
  readonly stageType: string;
  /** `with` after schema validation, defaults filled in. Paths are still as written. */
  readonly params: P;
  /** Outputs of the stages in `needs`, in that order. */
  readonly inputs: readonly Artifact[];
  /** The one input of this kind; a clear ScalpelError naming the stage if there is none or several. */
  input(kind: ArtifactKind): Artifact;
  /** All inputs of this kind (possibly none). */
  inputsOfKind(kind: ArtifactKind): Artifact[];
  /** Empty directory for this stage's files; the engine moves it into the cache on success. */
  readonly outDir: string;
  /**
   * A directory of this node (same hash, same directory) that survives an interruption, for
   * resumable work such as training checkpoints. Not created in advance; removed by the engine
   * when the node completes. Nothing in it may change the stage's output.
   */
  readonly scratchDir: string;
  /** The recipe seed (or the stage's own `with.seed` where its schema has one). */
  readonly seed: number;
  /** Generator seeded from `seed`. */
  readonly rng: Rng;
  /** Directory of the recipe file: relative paths in params are relative to it. */
  readonly recipeDir: string;
  resolvePath(p: string): string;
  readonly log: Logger;
  progress(label: string, total: number): Progress;
  /** A structured event, written to events.jsonl with the stage id (e.g. one per iCBS step). */
  event(type: string, data: Record<string, unknown>): void;
  /** Aborted on Ctrl-C: long loops check `signal.aborted` (or `throwIfAborted()`). */
  readonly signal: AbortSignal;
  /** The tfjs backend in use ('tensorflow' | 'wasm' | 'cpu'). */
  readonly backend: string;
  /** Registered stage types, pruners and solvers (built-in and from plugins). */
  readonly registry: RegistryView;
}

export interface StageResult {
  kind: ArtifactKind;
  /** JSON describing the files in outDir (paths relative to it) and anything downstream needs. */
  manifest?: Record<string, unknown>;
  /** Numbers for metrics.json and the console (flat or nested JSON). */
  metrics?: Record<string, unknown>;
}

/** Context for computing extra hash material before a stage runs (no tfjs, no outputs). */
export interface FingerprintContext {
  readonly recipeDir: string;
  resolvePath(p: string): string;
  /** Registered entries, e.g. so a stage can hash the version of the pruner or solver it will run. */
  readonly registry: RegistryView;
}

export interface StageType<P = Record<string, unknown>> {
  /** Name used in `uses:` (kebab-case). */
  readonly name: string;
  /** Bump when outputs change for the same params: it is part of every node hash. */
  readonly version: string;
  /** One line for `scalpel stages`. */
  readonly description: string;
  /** JSON Schema of `with` (draft 2020-12 / ajv). `description` on each property is shown by `scalpel stages`; `default`s are filled in. */
  readonly schema: JsonSchema;
  /**
   * Optional: the schema of `with` built from the registry, for stage types whose parameters
   * depend on what else is registered (the prune stage: one branch per registered pruner). When
   * present, recipes are validated against it (compiled once per registry); `schema` is still
   * compiled at registration and should describe the common shape.
   */
  schemaFor?(registry: RegistryView): JsonSchema;
  /** The artifact kind `run` returns. */
  readonly output: ArtifactKind;
  /** Inputs this stage expects; checked against `needs` before anything runs. */
  readonly inputs?: readonly {
    kind: ArtifactKind;
    optional?: boolean;
    multiple?: boolean;
    /** Why it is needed, for the error when `needs` lacks it (e.g. "pruner 'wanda' reads input norms"). */
    reason?: string;
  }[];
  /**
   * Optional: the inputs for these params, when they depend on them (the prune stage needs a
   * calibration only for pruners that read one). Checked against `needs` when the recipe is
   * validated, so the mistake is reported before anything runs. Default: `inputs`.
   */
  inputsFor?(params: P, registry: RegistryView): StageType<P>['inputs'];
  /**
   * Extra material for the node hash that params alone do not capture, e.g. the sha256 of files a
   * path points to, so editing a model file invalidates the cache. May return a Promise of it.
   */
  fingerprint?(params: P, ctx: FingerprintContext): unknown;
  run(ctx: StageContext<P>): Promise<StageResult>;
}
