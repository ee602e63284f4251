// How the CLI shows an error: a ScalpelError as its format() (where, what, hint) and no stack
// unless --debug; anything else is a bug in scalpel or a plugin, shown with a pointer to --debug.
import { ExitCode, ScalpelError, unexpectedError } from '../errors.js';

function stackChain(e: unknown): string {
  const parts: string[] = [];
  let cur: unknown = e;
  for (let depth = 0; cur !== undefined && depth < 5; depth++) {
    if (cur instanceof Error) {
      parts.push(`${depth > 0 ? 'caused by: ' : ''}${cur.stack ?? String(cur)}`);
      cur = cur.cause;
    } else {
      parts.push(`${depth > 0 ? 'caused by: ' : ''}${String(cur)}`);
      cur = undefined;
    }
  }
  return parts.join('\n');
}

/** The text to print for `e` (without a trailing newline). */
export function formatError(e: unknown, debug: boolean): string {
  if (e instanceof ScalpelError) {
    return debug ? `${e.format()}\n${stackChain(e)}` : e.format();
  }
  const text = unexpectedError(e).format();
  return debug ? `${text}\n${stackChain(e)}` : text;
}

export function exitCodeOf(e: unknown): ExitCode {
  return e instanceof ScalpelError ? e.exitCode : ExitCode.stageFailed;
}
