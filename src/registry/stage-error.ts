// How failures of registered code are reported: every error a stage throws (while running, or
// while computing its fingerprint) becomes an E_STAGE ScalpelError naming the stage id and, for
// plugin stage types, the plugin (a ScalpelError keeps its own code and gains the stage id).
// Below both src/recipe (fingerprints at validate time) and src/engine (running a node).
import { ErrorCode, ScalpelError, asScalpelError } from '../errors.js';

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
