// Factories for the errors raised in many places (as rollup's `logXxx` helpers do), so that the
// same failure reads the same wherever it happens: a missing file, an unreadable or unwritable
// one, a data file with bad contents, a name nobody registered. Errors with a message of their
// own are still built with `new ScalpelError` where they happen.
import {
  ErrorCode,
  ScalpelError,
  type ScalpelErrorOptions,
  type SourceLocation,
} from './errors.js';
import { suggestionHint } from './suggest.js';

export interface FileErrorOptions {
  /** What the file is, for the message ("IDX file", "model file"); default "file". */
  readonly what?: string;
  /** Replaces the default hint. */
  readonly hint?: string;
  /**
   * Where the error points. E_IO errors have none unless given: the path is in the message, and
   * the caller that knows which recipe field named it (stage fingerprints) adds that line. E_DATA
   * errors point at the bad file by default.
   */
  readonly location?: SourceLocation;
  readonly stageId?: string;
  readonly layer?: string;
  readonly cause?: unknown;
}

export interface DataErrorOptions extends Omit<FileErrorOptions, 'what'> {
  /** Byte offset in the file where the bad contents start. */
  readonly offset?: number;
}

/** Hint for a path that does not exist (recipe paths are relative to the recipe). */
export const checkPathHint = 'check the path (relative paths are relative to the recipe file)';

function context(
  o: FileErrorOptions | DataErrorOptions,
  defaultLocation?: SourceLocation,
): ScalpelErrorOptions {
  const location = o.location ?? defaultLocation;
  return {
    ...(location !== undefined ? { location } : {}),
    ...(o.stageId !== undefined ? { stageId: o.stageId } : {}),
    ...(o.layer !== undefined ? { layer: o.layer } : {}),
    ...(o.cause !== undefined ? { cause: o.cause } : {}),
  };
}

function osCode(e: unknown): string {
  const code = (e as NodeJS.ErrnoException | undefined)?.code;
  return code ?? (e instanceof Error ? e.message : String(e));
}

/** E_IO: "<what> not found: <path>". */
export function fileNotFound(path: string, o: FileErrorOptions = {}): ScalpelError {
  return new ScalpelError(ErrorCode.Io, `${o.what ?? 'file'} not found: ${path}`, {
    ...context(o),
    hint: o.hint ?? checkPathHint,
  });
}

/**
 * E_IO for a failed read of `path`: `fileNotFound` when the OS said ENOENT, otherwise
 * "cannot read <what> <path>: <EACCES|EISDIR|…>".
 */
export function readFailed(path: string, cause: unknown, o: FileErrorOptions = {}): ScalpelError {
  const code = osCode(cause);
  if (code === 'ENOENT') return fileNotFound(path, { ...o, cause });
  const what = o.what !== undefined ? `${o.what} ` : '';
  return new ScalpelError(ErrorCode.Io, `cannot read ${what}${path}: ${code}`, {
    ...context({ ...o, cause }),
    hint:
      o.hint ??
      (code === 'EISDIR'
        ? 'give the path of a file, not a directory'
        : 'check the file permissions'),
  });
}

/** E_IO for a failed write: "cannot write <what> <path>: <reason>". */
export function writeFailed(path: string, cause: unknown, o: FileErrorOptions = {}): ScalpelError {
  const what = o.what !== undefined ? `${o.what} ` : '';
  const reason = cause instanceof Error ? cause.message : String(cause);
  return new ScalpelError(ErrorCode.Io, `cannot write ${what}${path}: ${reason}`, {
    ...context({ ...o, cause }),
    hint: o.hint ?? 'check that the directory exists, is writable and the disk is not full',
  });
}

/** E_DATA for a file with bad contents: "<path>[ at byte <offset>]: <detail>". */
export function badData(path: string, detail: string, o: DataErrorOptions = {}): ScalpelError {
  const at = o.offset !== undefined ? ` at byte ${o.offset}` : '';
  return new ScalpelError(ErrorCode.Data, `${path}${at}: ${detail}`, {
    ...context(o, { file: path }),
    hint: o.hint ?? 'the file is corrupt or not of the expected format; write or fetch it again',
  });
}

/** E_DATA: the file ends before the `expected` bytes at `offset` that its header promises. */
export function truncatedFile(
  path: string,
  at: { readonly offset: number; readonly expected: number; readonly got: number },
  o: DataErrorOptions = {},
): ScalpelError {
  return new ScalpelError(
    ErrorCode.Data,
    `${path} is truncated: expected ${at.expected} bytes at offset ${at.offset}, got ${at.got}`,
    {
      ...context(o, { file: path }),
      hint: o.hint ?? 'the file is incomplete or changed while open',
    },
  );
}

/** E_DATA: a file that should hold JSON does not parse. */
export function invalidJson(path: string, cause: unknown, o: DataErrorOptions = {}): ScalpelError {
  const reason = cause instanceof Error ? cause.message : String(cause);
  return new ScalpelError(ErrorCode.Data, `${path} is not valid JSON: ${reason.slice(0, 200)}`, {
    ...context({ ...o, cause }, { file: path }),
    hint: o.hint ?? 'the file is corrupt or not JSON; write or fetch it again',
  });
}

export interface UnknownNameOptions {
  readonly location?: SourceLocation;
  readonly stageId?: string;
  /** Said before the message ("icbs", "stage 'prune'"). */
  readonly prefix?: string;
  /** Appended to the did-you-mean hint. */
  readonly moreHint?: string;
}

/**
 * E_UNKNOWN_NAME: "unknown <kind> '<name>'", with the closest known name (a likely typo) and the
 * list of known ones as the hint.
 */
export function unknownName(
  kind: string,
  name: string,
  known: readonly string[],
  o: UnknownNameOptions = {},
): ScalpelError {
  const prefix = o.prefix !== undefined ? `${o.prefix}: ` : '';
  const hint = suggestionHint(name, known, kind);
  return new ScalpelError(ErrorCode.UnknownName, `${prefix}unknown ${kind} '${name}'`, {
    ...(o.location !== undefined ? { location: o.location } : {}),
    ...(o.stageId !== undefined ? { stageId: o.stageId } : {}),
    hint: o.moreHint !== undefined ? `${hint}; ${o.moreHint}` : hint,
  });
}

/**
 * E_RECIPE_SCHEMA for a stage parameter that passed the schema but that the stage rejects when it
 * runs (a combination the schema cannot express): "stages.<id>.with.<key>: <problem>".
 */
export function badStageParam(
  stageId: string,
  key: string,
  problem: string,
  hint: string,
  location?: SourceLocation,
): ScalpelError {
  return new ScalpelError(ErrorCode.RecipeSchema, `stages.${stageId}.with.${key}: ${problem}`, {
    stageId,
    hint,
    ...(location !== undefined ? { location } : {}),
  });
}
