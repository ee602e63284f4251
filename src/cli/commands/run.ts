// scalpel run <recipe>: run the pipeline, print the summary, exit 0 / 1 (a stage failed) / 130
// (interrupted). Ctrl-C (or SIGTERM) aborts the run cleanly; a second one quits at once.
import { Command } from 'commander';
import type { BackendChoice, ThreadsChoice } from '../../recipe/types.js';
import { interruptOnSignals } from '../interrupt.js';
import { collect, positiveInt, withDebug, withExecutionOptions } from '../options.js';
import { renderSummary } from '../print-summary.js';

interface RunOpts {
  set: string[];
  jobs: number;
  cache: boolean;
  force?: boolean;
  out?: string;
  backend?: BackendChoice;
  threads?: ThreadsChoice;
  cacheDir?: string;
  quiet?: boolean;
  verbose?: boolean;
  debug?: boolean;
}

export function runCommand(): Command {
  return withExecutionOptions(withDebug(new Command('run')))
    .description(
      'run a recipe: stages in dependency order, cached results reused, a run record written',
    )
    .argument('<recipe>', 'recipe file (YAML)')
    .option(
      '--set <path=value>',
      'override a field, value parsed as YAML (repeatable)',
      collect,
      [],
    )
    .option('-j, --jobs <n>', 'stages running at once', positiveInt, 1)
    .option('--no-cache', 'recompute every stage (and replace its cache entry)')
    .option('--force', 'same as --no-cache')
    .option('--out <dir>', 'run record directory (default runs/<name>-<YYYYMMDD-HHMMSS>)')
    .action(async (file: string, opts: RunOpts) => {
      const controller = new AbortController();
      const { runRecipe } = await import('../../engine/run.js');
      const removeHandlers = interruptOnSignals(
        controller,
        'stopping — waiting for running stages (press Ctrl-C again to quit now)',
      );
      try {
        const summary = await runRecipe(file, {
          set: opts.set,
          jobs: opts.jobs,
          workerProcesses: true,
          noCache: !opts.cache || opts.force === true,
          signal: controller.signal,
          ...(opts.out !== undefined ? { out: opts.out } : {}),
          ...(opts.backend !== undefined ? { backend: opts.backend } : {}),
          ...(opts.threads !== undefined ? { threads: opts.threads } : {}),
          ...(opts.cacheDir !== undefined ? { cacheDir: opts.cacheDir } : {}),
          ...(opts.quiet === true ? { quiet: true } : {}),
          ...(opts.verbose === true ? { verbose: true } : {}),
        });
        process.stdout.write(renderSummary(summary, { debug: opts.debug === true }) + '\n');
        process.exitCode = summary.exitCode;
      } finally {
        removeHandlers();
      }
    });
}
