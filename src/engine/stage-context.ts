// What a running stage sees (StageContext from the plugin API), and how its failures are reported:
// every error a stage throws becomes an E_STAGE ScalpelError naming the stage id and, for plugin
// stage types, the plugin (a ScalpelError keeps its own code and gains the stage id).
import { isAbsolute, resolve } from 'node:path';
import { ErrorCode, ScalpelError, asScalpelError } from '../errors.js';
import type { Artifact, ArtifactKind, Progress, StageContext } from '../plugin-api/stage.js';
import type { RegistryView } from '../plugin-api/registry-view.js';
import { Rng } from '../util/rng.js';
import type { RunLogging } from './logging.js';
import type { ProgressSink } from './progress.js';

/** The seed a stage runs with: its own numeric `with.seed` if it has one, else the recipe seed. */
export function stageSeed(params: Readonly<Record<string, unknown>>, recipeSeed: number): number {
  const own = params['seed'];
  return typeof own === 'number' && Number.isFinite(own) ? own : recipeSeed;
}

export function resolveRecipePath(recipeDir: string, p: string): string {
  return isAbsolute(p) ? p : resolve(recipeDir, p);
}

export interface StageContextInit {
  readonly stageId: string;
  readonly stageType: string;
  readonly params: Record<string, unknown>;
  readonly inputs: readonly Artifact[];
  readonly outDir: string;
  readonly scratchDir: string;
  readonly seed: number;
  readonly recipeDir: string;
  readonly logging: RunLogging;
  readonly progress: ProgressSink;
  readonly signal: AbortSignal;
  readonly backend: string;
  readonly registry: RegistryView;
}

export function createStageContext(init: StageContextInit): StageContext {
  const { stageId, inputs } = init;
  const describeInputs = (): string =>
    inputs.length === 0
      ? 'it has no inputs (no `needs`)'
      : `its needs provide ${inputs.map((a) => `'${a.stageId}' (${a.kind})`).join(', ')}`;
  return {
    stageId,
    stageType: init.stageType,
    params: init.params,
    inputs,
    input(kind: ArtifactKind): Artifact {
      const found = inputs.filter((a) => a.kind === kind);
      const only = found[0];
      if (found.length === 1 && only !== undefined) return only;
      throw new ScalpelError(
        ErrorCode.Stage,
        found.length === 0
          ? `stage '${stageId}' needs an input of kind '${kind}', but ${describeInputs()}`
          : `stage '${stageId}' expects one input of kind '${kind}', but ${describeInputs()}`,
        {
          stageId,
          hint:
            found.length === 0
              ? `add a stage that produces '${kind}' to stages.${stageId}.needs`
              : `keep only one '${kind}' stage in stages.${stageId}.needs`,
        },
      );
    },
    inputsOfKind(kind: ArtifactKind): Artifact[] {
      return inputs.filter((a) => a.kind === kind);
    },
    outDir: init.outDir,
    scratchDir: init.scratchDir,
    seed: init.seed,
    rng: new Rng(init.seed),
    recipeDir: init.recipeDir,
    resolvePath: (p: string) => resolveRecipePath(init.recipeDir, p),
    log: init.logging.forStage(stageId),
    progress: (label: string, total: number): Progress =>
      init.progress.create(stageId, label, total),
    event: (type: string, data: Record<string, unknown>) => init.logging.event(stageId, type, data),
    signal: init.signal,
    backend: init.backend,
    registry: init.registry,
  };
}

export interface StageErrorContext {
  readonly stageId: string;
  readonly stageType: string;
  /** The plugin the stage type came from; undefined for built-ins. */
  readonly plugin: string | undefined;
}

/** Attach the stage (and plugin) to whatever a stage threw. */
export function wrapStageError(e: unknown, c: StageErrorContext): ScalpelError {
  if (e instanceof ScalpelError) {
    if (e.stageId !== undefined) return e;
    const plugin = e.plugin ?? c.plugin;
    return new ScalpelError(e.code, e.message, {
      stageId: c.stageId,
      ...(plugin !== undefined ? { plugin } : {}),
      ...(e.location !== undefined ? { location: e.location } : {}),
      ...(e.hint !== undefined ? { hint: e.hint } : {}),
      ...(e.layer !== undefined ? { layer: e.layer } : {}),
      exitCode: e.exitCode,
      cause: e,
    });
  }
  // Worded so that format() finds "stage 'x', plugin 'p'" in it and does not repeat it.
  const from = c.plugin !== undefined ? `, plugin '${c.plugin}'` : '';
  return asScalpelError(
    e,
    ErrorCode.Stage,
    `stage '${c.stageId}'${from} (uses: ${c.stageType}) failed`,
    {
      stageId: c.stageId,
      ...(c.plugin !== undefined ? { plugin: c.plugin } : {}),
      hint:
        c.plugin !== undefined
          ? `this is an error in plugin '${c.plugin}' or in its parameters; run with --debug for the stack trace`
          : 'check the stage parameters; run with --debug for the stack trace',
    },
  );
}
