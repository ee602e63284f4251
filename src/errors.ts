// Every error a user can cause is a ScalpelError: a stable code, a message that says where and
// what to do, and the exit code the CLI uses. The CLI prints `message` (and `hint`) without a
// stack trace unless --debug is given. Nothing else in the code base invents error shapes.

/** Process exit codes, documented in the README. */
export const ExitCode = {
  ok: 0,
  /** A stage failed while running (the recipe itself was valid). */
  stageFailed: 1,
  /** Invalid input: recipe syntax, schema, graph, plugin, bad flags, missing files. */
  invalidInput: 2,
  /** Interrupted by the user (Ctrl-C / SIGTERM). */
  interrupted: 130,
} as const;
export type ExitCode = (typeof ExitCode)[keyof typeof ExitCode];

/** Error kinds. The code prefix tells which part of scalpel raised it. */
export const ErrorCode = {
  /** YAML could not be parsed (syntax, duplicate keys, tabs). */
  RecipeSyntax: 'E_RECIPE_SYNTAX',
  /** The recipe parsed but does not match a JSON Schema (recipe, stage `with`, pruner params). */
  RecipeSchema: 'E_RECIPE_SCHEMA',
  /** A `--set path=value` override that names no field or has an unparsable value. */
  RecipeOverride: 'E_RECIPE_OVERRIDE',
  /** The stage graph is wrong: missing needs, self-needs, cycles, empty stages. */
  Graph: 'E_GRAPH',
  /** A `uses:` naming no registered stage type, or a pruner/solver name that is not registered. */
  UnknownName: 'E_UNKNOWN_NAME',
  /** A plugin could not be found, threw while loading, exported something invalid, or clashed. */
  Plugin: 'E_PLUGIN',
  /** A stage threw while running. */
  Stage: 'E_STAGE',
  /** Data could not be read or is malformed (datasets, model files). */
  Data: 'E_DATA',
  /** Files: missing, a directory instead of a file, unreadable, unwritable. */
  Io: 'E_IO',
  /** A backend was asked for that is not available. */
  Backend: 'E_BACKEND',
  /** A sweep specification is invalid. */
  Sweep: 'E_SWEEP',
  /** Command-line usage errors. */
  Usage: 'E_USAGE',
  /** The run was interrupted. */
  Interrupted: 'E_INTERRUPTED',
  /** An internal invariant broke: a bug in scalpel (or a plugin), never the user's input. */
  Internal: 'E_INTERNAL',
} as const;
export type ErrorCode = (typeof ErrorCode)[keyof typeof ErrorCode];

/** Where in a recipe (or other source file) an error points. Lines and columns are 1-based. */
export interface SourceLocation {
  file: string;
  line?: number;
  col?: number;
  /** Dotted path inside the recipe, e.g. `stages.prune.with.blockSize`. */
  path?: string;
}

export interface ScalpelErrorOptions {
  location?: SourceLocation;
  /** What the user can do about it ("did you mean 'blockSize'?", "run npm i …"). */
  hint?: string;
  stageId?: string;
  plugin?: string;
  layer?: string;
  cause?: unknown;
  exitCode?: ExitCode;
}

const defaultExit: Record<ErrorCode, ExitCode> = {
  E_RECIPE_SYNTAX: ExitCode.invalidInput,
  E_RECIPE_SCHEMA: ExitCode.invalidInput,
  E_RECIPE_OVERRIDE: ExitCode.invalidInput,
  E_GRAPH: ExitCode.invalidInput,
  E_UNKNOWN_NAME: ExitCode.invalidInput,
  E_PLUGIN: ExitCode.invalidInput,
  E_STAGE: ExitCode.stageFailed,
  E_DATA: ExitCode.invalidInput,
  E_IO: ExitCode.invalidInput,
  E_BACKEND: ExitCode.invalidInput,
  E_SWEEP: ExitCode.invalidInput,
  E_USAGE: ExitCode.invalidInput,
  E_INTERRUPTED: ExitCode.interrupted,
  E_INTERNAL: ExitCode.stageFailed,
};

export class ScalpelError extends Error {
  readonly code: ErrorCode;
  readonly location: SourceLocation | undefined;
  readonly hint: string | undefined;
  readonly stageId: string | undefined;
  readonly plugin: string | undefined;
  readonly layer: string | undefined;
  readonly exitCode: ExitCode;

  constructor(code: ErrorCode, message: string, options: ScalpelErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'ScalpelError';
    this.code = code;
    this.location = options.location;
    this.hint = options.hint;
    this.stageId = options.stageId;
    this.plugin = options.plugin;
    this.layer = options.layer;
    this.exitCode = options.exitCode ?? defaultExit[code];
  }

  /** `file:line:col` (as much of it as is known), for the start of a printed message. */
  get where(): string {
    const loc = this.location;
    if (!loc) return '';
    let s = loc.file;
    if (loc.line !== undefined) s += `:${loc.line}`;
    if (loc.line !== undefined && loc.col !== undefined) s += `:${loc.col}`;
    return s;
  }

  /** The full human-readable text the CLI prints (no stack). */
  format(): string {
    const parts: string[] = [];
    const where = this.where;
    const context = [
      this.stageId !== undefined ? `stage '${this.stageId}'` : '',
      this.plugin !== undefined ? `plugin '${this.plugin}'` : '',
      this.layer !== undefined ? `layer '${this.layer}'` : '',
      this.location?.path !== undefined ? `at ${this.location.path}` : '',
    ].filter((s) => s !== '');
    parts.push(
      `${where !== '' ? where + ': ' : ''}${this.code}: ${this.message}` +
        (context.length > 0 && !this.message.includes(context.join(', '))
          ? ` (${context.join(', ')})`
          : ''),
    );
    if (this.hint !== undefined) parts.push(`  hint: ${this.hint}`);
    return parts.join('\n');
  }

  /** The one JSON form of an error (summary.json, trials.jsonl, the sweep worker protocol). */
  toJSON(): SerializedError {
    return {
      code: this.code,
      message: this.message,
      ...(this.hint !== undefined ? { hint: this.hint } : {}),
      ...(this.location !== undefined ? { location: this.location } : {}),
      ...(this.stageId !== undefined ? { stageId: this.stageId } : {}),
      ...(this.plugin !== undefined ? { plugin: this.plugin } : {}),
      ...(this.layer !== undefined ? { layer: this.layer } : {}),
      exitCode: this.exitCode,
    };
  }
}

/**
 * A ScalpelError as JSON. Readers of older records see the same fields minus `exitCode`, so
 * everything but `code` and `message` is optional. `stack` is only there for errors that were
 * not ScalpelErrors (bugs), so that a report can show where they came from.
 */
export interface SerializedError {
  readonly code: string;
  readonly message: string;
  readonly hint?: string;
  readonly location?: SourceLocation;
  readonly stageId?: string;
  readonly plugin?: string;
  readonly layer?: string;
  readonly exitCode?: number;
  readonly stack?: string;
}

export function isScalpelError(e: unknown): e is ScalpelError {
  return e instanceof ScalpelError;
}

/** Wrap anything thrown by third-party code (a plugin, tfjs) as a ScalpelError with context. */
export function asScalpelError(
  e: unknown,
  code: ErrorCode,
  prefix: string,
  options: ScalpelErrorOptions = {},
): ScalpelError {
  if (e instanceof ScalpelError) return e;
  const detail = e instanceof Error ? e.message : String(e);
  return new ScalpelError(code, `${prefix}: ${detail}`, { ...options, cause: e });
}

/** Something thrown that is not a ScalpelError (a bug), as the E_INTERNAL the user is shown. */
export function unexpectedError(e: unknown): ScalpelError {
  return asScalpelError(e, ErrorCode.Internal, 'unexpected error', {
    hint: 'this is a bug in scalpel or a plugin; run with --debug for the stack trace and report it',
  });
}

/** Anything thrown, as JSON: a ScalpelError as its toJSON(), anything else as E_INTERNAL. */
export function serializeError(e: unknown): SerializedError {
  if (e instanceof ScalpelError) return e.toJSON();
  const json = unexpectedError(e).toJSON();
  return e instanceof Error && e.stack !== undefined ? { ...json, stack: e.stack } : json;
}

const codes = new Set<string>(Object.values(ErrorCode));
const exitCodes = new Set<number>(Object.values(ExitCode));

/**
 * The ScalpelError a SerializedError describes (the sweep process rethrows what a worker sent).
 * An unknown code (a record of a newer scalpel) reads as E_INTERNAL; a remote stack becomes the
 * cause, so --debug prints it.
 */
export function deserializeError(s: SerializedError): ScalpelError {
  const code = codes.has(s.code) ? (s.code as ErrorCode) : ErrorCode.Internal;
  const remote =
    s.stack !== undefined ? Object.assign(new Error(s.message), { stack: s.stack }) : undefined;
  return new ScalpelError(code, s.message, {
    ...(s.hint !== undefined ? { hint: s.hint } : {}),
    ...(s.location !== undefined ? { location: s.location } : {}),
    ...(s.stageId !== undefined ? { stageId: s.stageId } : {}),
    ...(s.plugin !== undefined ? { plugin: s.plugin } : {}),
    ...(s.layer !== undefined ? { layer: s.layer } : {}),
    ...(s.exitCode !== undefined && exitCodes.has(s.exitCode)
      ? { exitCode: s.exitCode as ExitCode }
      : {}),
    ...(remote !== undefined ? { cause: remote } : {}),
  });
}
