// Option parsers and shared flags for the commands.
import { InvalidArgumentError, type Command } from 'commander';
import type { BackendChoice, ThreadsChoice } from '../recipe/types.js';

export const backendChoices: readonly BackendChoice[] = ['auto', 'tensorflow', 'wasm', 'cpu'];

/** Collect a repeatable option (`--set a=1 --set b=2`). */
export function collect(value: string, previous: string[]): string[] {
  return [...previous, value];
}

export function positiveInt(value: string): number {
  if (!/^\d+$/.test(value) || Number(value) < 1) {
    throw new InvalidArgumentError(`expected a whole number >= 1, got '${value}'`);
  }
  return Number(value);
}

/** A whole number >= 0 (--retries). */
export function nonNegativeInt(value: string): number {
  if (!/^\d+$/.test(value)) {
    throw new InvalidArgumentError(`expected a whole number >= 0, got '${value}'`);
  }
  return Number(value);
}

export function backendChoice(value: string): BackendChoice {
  const found = backendChoices.find((b) => b === value);
  if (found === undefined)
    throw new InvalidArgumentError(`expected one of ${backendChoices.join(', ')}, got '${value}'`);
  return found;
}

/** --threads: `auto` or a whole number >= 1. */
export function threadsChoice(value: string): ThreadsChoice {
  if (value === 'auto') return 'auto';
  if (!/^\d+$/.test(value) || Number(value) < 1)
    throw new InvalidArgumentError(`expected 'auto' or a whole number >= 1, got '${value}'`);
  return Number(value);
}

/** --debug on every command (also accepted before the command name). */
export function withDebug(cmd: Command): Command {
  return cmd.option('--debug', 'print stack traces of errors');
}

export interface DebugOpts {
  debug?: boolean;
}

/** The options `run` and `sweep` share: backend, threads, cache root and console verbosity. */
export function withExecutionOptions(cmd: Command): Command {
  return cmd
    .option(
      '--backend <backend>',
      'override the recipe backend: auto, tensorflow, wasm or cpu',
      backendChoice,
    )
    .option(
      '--threads <n>',
      "override the recipe's threads (data-parallel worker threads): auto (every core) or a number, shared by --jobs processes",
      threadsChoice,
    )
    .option('--cache-dir <dir>', 'cache root (default $SCALPEL_CACHE_DIR or ./.scalpel)')
    .option('-q, --quiet', 'print only warnings and errors (and the summary)')
    .option('-v, --verbose', 'print debug messages');
}
