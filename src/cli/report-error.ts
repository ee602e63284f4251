// How the CLI shows an error: a ScalpelError as its format() (where, what, hint) and no stack
// unless --debug; anything else is a bug in scalpel or a plugin, shown with a pointer to --debug.
import { ExitCode, ScalpelError, unexpectedError } from '../errors.js';

/** `e` and the causes under it, at most 5 deep. */
function causeChain(e: unknown): unknown[] {
  const chain: unknown[] = [];
  for (let cur = e; cur !== undefined && chain.length < 5;) {
    chain.push(cur);
    cur = cur instanceof Error ? cur.cause : undefined;
  }
  return chain;
}

function stackChain(e: unknown): string {
  return causeChain(e)
    .map(
      (cur, depth) =>
        `${depth > 0 ? 'caused by: ' : ''}${cur instanceof Error ? (cur.stack ?? String(cur)) : String(cur)}`,
    )
    .join('\n');
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
