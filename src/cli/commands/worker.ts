// scalpel worker --redis URL --cache-dir DIR: take sweep nodes from the BullMQ queue in Redis and
// run them into the shared cache, until Ctrl-C/SIGTERM (running jobs go back to the queue).
import { Command } from 'commander';
import { ErrorCode, ExitCode, ScalpelError } from '../../errors.js';
import { positiveInt, threadsChoice, withDebug } from '../options.js';
import type { ThreadsChoice } from '../../models/threads.js';

interface WorkerOpts {
  redis?: string;
  cacheDir?: string;
  concurrency: number;
  plugins?: string;
  workDir?: string;
  threads?: ThreadsChoice;
  quiet?: boolean;
  verbose?: boolean;
}

export function workerCommand(): Command {
  return withDebug(new Command('worker'))
    .description(
      'run sweep stages queued by `scalpel sweep --executor bullmq` (one process per machine, or more)',
    )
    .option('--redis <url>', 'the Redis the coordinators use, e.g. redis://host:6379')
    .option(
      '--cache-dir <dir>',
      "the shared cache root (the coordinator's --cache-dir, mounted here)",
    )
    .option('--concurrency <n>', 'stages running at once in this worker', positiveInt, 1)
    .option(
      '--plugins <dir>',
      "this machine's copy of the coordinator's working directory: recipes' relative paths (plugins, data, models) resolve in it as on the coordinator (default: the current directory)",
    )
    .option(
      '--work-dir <dir>',
      "this worker's own files: recipe copies, events.jsonl (default ./.scalpel-worker)",
    )
    .option(
      '--threads <n>',
      'data-parallel worker threads of this worker: auto (every core, the default) or a number, shared by its --concurrency stages; results do not depend on it (docs/performance.md)',
      threadsChoice,
    )
    .option('-q, --quiet', 'print only warnings and errors')
    .option('-v, --verbose', 'print debug messages')
    .action(async (opts: WorkerOpts) => {
      if (opts.redis === undefined)
        throw new ScalpelError(ErrorCode.Usage, 'scalpel worker needs --redis <url>', {
          hint: 'e.g. scalpel worker --redis redis://host:6379 --cache-dir /shared/scalpel',
        });
      if (opts.cacheDir === undefined)
        throw new ScalpelError(ErrorCode.Usage, 'scalpel worker needs --cache-dir <dir>', {
          hint: "pass the shared cache directory, as mounted on this machine (the coordinator's --cache-dir)",
        });
      const { checkRedisUrl } = await import('../../distributed/redis-connection.js');
      checkRedisUrl(opts.redis);
      const controller = new AbortController();
      let signals = 0;
      const onSignal = (): void => {
        signals++;
        if (signals === 1) controller.abort();
        else process.exit(ExitCode.interrupted);
      };
      process.on('SIGINT', onSignal);
      process.on('SIGTERM', onSignal);
      try {
        const { runNodeWorker } = await import('../../distributed/node-worker.js');
        await runNodeWorker({
          redis: opts.redis,
          cacheDir: opts.cacheDir,
          concurrency: opts.concurrency,
          pluginsDir: opts.plugins ?? process.cwd(),
          workDir: opts.workDir ?? '.scalpel-worker',
          ...(opts.threads !== undefined ? { threads: opts.threads } : {}),
          ...(opts.quiet === true ? { quiet: true } : {}),
          ...(opts.verbose === true ? { verbose: true } : {}),
          signal: controller.signal,
        });
      } finally {
        process.off('SIGINT', onSignal);
        process.off('SIGTERM', onSignal);
      }
    });
}
