// scalpel sweep <recipe-or-sweep-file>: expand, validate and plan every trial, run them as one
// graph (shared stages once), record trials.jsonl and results. Running the same command after an
// interruption resumes the unfinished sweep. Exit 0 / 1 (a trial failed) / 130 (interrupted).
// `--executor bullmq --redis URL` runs the nodes on `scalpel worker`s (docs/distributed.md);
// `--status --redis URL [file]` shows what the queue knows about distributed sweeps.
import { Command, InvalidArgumentError } from 'commander';
import { ErrorCode, ScalpelError } from '../../errors.js';
import type { SweepSummary } from '../../sweep/sweep-run.js';
import type { BackendChoice, ThreadsChoice } from '../../recipe/types.js';
import { interruptOnSignals } from '../interrupt.js';
import {
  collect,
  nonNegativeInt,
  positiveInt,
  withDebug,
  withExecutionOptions,
} from '../options.js';

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
  executor: 'local' | 'bullmq';
  redis?: string;
  retries: number;
  status?: boolean;
}

function executorChoice(value: string): 'local' | 'bullmq' {
  if (value === 'local' || value === 'bullmq') return value;
  throw new InvalidArgumentError(`expected local or bullmq, got '${value}'`);
}

async function showStatus(file: string | undefined, opts: SweepOpts): Promise<void> {
  if (opts.redis === undefined)
    throw new ScalpelError(ErrorCode.Usage, '--status needs --redis <url>', {
      hint: 'pass the Redis URL the sweep was started with, e.g. --redis redis://localhost:6379',
    });
  const { readSweepStatus, renderSweepStatus } = await import('../../distributed/run-status.js');
  let ids: string[] | undefined;
  if (file !== undefined) {
    // The sweep's id comes from its plan, exactly as the coordinator computed it.
    const { loadSweep } = await import('../../sweep/sweep-load.js');
    const { planSweep } = await import('../../sweep/sweep-graph.js');
    const { sweepIdOf } = await import('../../distributed/job-payload.js');
    const def = await loadSweep(file, { set: opts.set });
    const graph = await planSweep(def, {
      backend: opts.backend,
      ...(opts.cacheDir !== undefined ? { cacheDir: opts.cacheDir } : {}),
    });
    ids = [sweepIdOf(graph.fingerprint)];
  }
  const reports = await readSweepStatus(opts.redis, ids);
  process.stdout.write(renderSweepStatus(reports) + '\n');
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
      '[file]',
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
    .option(
      '--executor <kind>',
      'where stages run: local (this machine) or bullmq (scalpel workers, via --redis)',
      executorChoice,
      'local',
    )
    .option('--redis <url>', 'Redis of the bullmq executor, e.g. redis://host:6379')
    .option('--retries <n>', 'bullmq executor: retry a failed stage n times', nonNegativeInt, 0)
    .option('--status', 'show the distributed sweeps in --redis (or the one of <file>) and exit')
    .action(async (file: string | undefined, opts: SweepOpts) => {
      if (opts.status === true) {
        await showStatus(file, opts);
        return;
      }
      if (file === undefined)
        throw new ScalpelError(ErrorCode.Usage, 'scalpel sweep needs a <file>', {
          hint: 'pass a recipe with a sweep: section or a sweep file (or --status --redis <url>)',
        });
      if (opts.executor === 'bullmq' && opts.redis === undefined)
        throw new ScalpelError(ErrorCode.Usage, '--executor bullmq needs --redis <url>', {
          hint: 'pass the Redis URL your scalpel workers use, e.g. --redis redis://localhost:6379',
        });
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
          executor: opts.executor,
          retries: opts.retries,
          ...(opts.redis !== undefined ? { redis: opts.redis } : {}),
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
