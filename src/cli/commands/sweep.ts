// scalpel sweep <recipe-or-sweep-file>: expand, validate and plan every trial, run them as one
// graph (shared stages once), record trials.jsonl and results. Running the same command after an
// interruption resumes the unfinished sweep. Exit 0 / 1 (a trial failed) / 130 (interrupted).
import { Command } from 'commander';
import type { SweepSummary } from '../../sweep/sweep-run.js';
import type { BackendChoice, ThreadsChoice } from '../../recipe/types.js';
import { interruptOnSignals } from '../interrupt.js';
import { collect, positiveInt, withDebug, withExecutionOptions } from '../options.js';

interface SweepOpts {
  set: string[];
  jobs: number;
  cache: boolean;
  resume?: string;
  out?: string;
  backend?: BackendChoice;
  threads?: ThreadsChoice;
  cacheDir?: string;
  quiet?: boolean;
  verbose?: boolean;
  debug?: boolean;
}

export function renderSweepSummary(s: SweepSummary): string {
  const t = s.trials;
  const lines = [
    `sweep ${s.status}${s.resumed ? ' (resumed)' : ''}: ${t.ok}/${t.total} trials ok` +
      (t.failed > 0 ? `, ${t.failed} failed` : '') +
      (t.unfinished > 0 ? `, ${t.unfinished} unfinished` : '') +
      (t.alreadyDone > 0 ? ` (${t.alreadyDone} done before)` : ''),
    `nodes: ${s.nodes.total} distinct, ${s.nodes.ran} ran, ${s.nodes.cached} cached` +
      (s.nodes.failed > 0 ? `, ${s.nodes.failed} failed` : ''),
    `results: ${s.dir}/results.csv`,
    `next: scalpel compare ${s.dir}   ·   scalpel report ${s.dir}`,
  ];
  if (t.unfinished > 0)
    lines.push('resume: run the same command again (or add --resume ' + s.dir + ')');
  return lines.join('\n');
}

export function sweepCommand(): Command {
  return withExecutionOptions(withDebug(new Command('sweep')))
    .description(
      'run a parameter sweep: every trial validated first, shared stages computed once, resumable',
    )
    .argument(
      '<file>',
      'recipe with a sweep: section, or a sweep file { recipe: <path>, sweep: {...} }',
    )
    .option(
      '--set <path=value>',
      'override a recipe field in every trial, value parsed as YAML (repeatable)',
      collect,
      [],
    )
    .option(
      '-j, --jobs <n>',
      'stages running at once (more than 1: in worker processes)',
      positiveInt,
      1,
    )
    .option(
      '--resume <dir>',
      'continue this sweep directory (default: the newest unfinished one of the same sweep)',
    )
    .option('--out <dir>', 'sweep directory (default sweeps/<name>-<YYYYMMDD-HHMMSS>)')
    .option('--no-cache', 'recompute every stage (and replace its cache entry)')
    .action(async (file: string, opts: SweepOpts) => {
      const controller = new AbortController();
      const removeHandlers = interruptOnSignals(
        controller,
        'stopping the sweep — finished trials are kept; run the same command again to resume (Ctrl-C again quits now)',
      );
      try {
        // Loaded on demand so `--help` does not pay for tfjs and the engine.
        const { runSweep } = await import('../../sweep/sweep-run.js');
        const summary = await runSweep(file, {
          set: opts.set,
          jobs: opts.jobs,
          noCache: !opts.cache,
          signal: controller.signal,
          ...(opts.resume !== undefined ? { resume: opts.resume } : {}),
          ...(opts.out !== undefined ? { out: opts.out } : {}),
          ...(opts.backend !== undefined ? { backend: opts.backend } : {}),
          ...(opts.threads !== undefined ? { threads: opts.threads } : {}),
          ...(opts.cacheDir !== undefined ? { cacheDir: opts.cacheDir } : {}),
          ...(opts.quiet === true ? { quiet: true } : {}),
          ...(opts.verbose === true ? { verbose: true } : {}),
        });
        process.stdout.write(renderSweepSummary(summary) + '\n');
        process.exitCode = summary.exitCode;
      } finally {
        removeHandlers();
      }
    });
}
