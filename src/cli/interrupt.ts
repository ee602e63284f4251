// Ctrl-C handling shared by the long-running commands (run, sweep).
import { ExitCode } from '../errors.js';

/**
 * Abort `controller` on the first SIGINT/SIGTERM (printing `${signal}: ${message}`), exit with
 * the interrupted code on the second. Returns a function removing the handlers.
 */
export function interruptOnSignals(controller: AbortController, message: string): () => void {
  let count = 0;
  const handler = (signal: NodeJS.Signals): void => {
    count++;
    if (count === 1) {
      process.stderr.write(`\n${signal}: ${message}\n`);
      controller.abort();
    } else {
      process.exit(ExitCode.interrupted);
    }
  };
  process.on('SIGINT', handler);
  process.on('SIGTERM', handler);
  return () => {
    process.off('SIGINT', handler);
    process.off('SIGTERM', handler);
  };
}
