// What `runPlan`, `runSweep` and a stage worker process (worker.ts) share once their record
// directory exists: console and events.jsonl logging, progress, the abort wiring (the caller's
// signal into one controller, plus a hook such as stopping worker processes), the tfjs backend
// initialised at most once, the notice about stale cache temp dirs, and executing a node in this
// process. The callers keep what differs: the graph they schedule and the record they write.
import type { Artifact } from '../plugin-api/stage.js';
import { initBackend, type BackendChoice, type BackendInfo } from '../models/backend.js';
import { wasmThreadsFromEnv } from '../models/threads.js';
import { configureDataParallel } from '../parallel/context.js';
import type { Cache } from './cache.js';
import { ErrorCode, ScalpelError } from '../errors.js';
import { artifactOf, executeNode, type ExecResult } from './execute-node.js';
import { RunLogging, verbosityOf } from './logging.js';
import type { ExecNode } from './plan.js';
import { ProgressSink } from './progress.js';
import { Terminal } from './terminal.js';

export interface SessionOptions {
  /** The record's events.jsonl. */
  readonly eventsFile: string;
  readonly cache: Cache;
  readonly backendChoice: BackendChoice;
  /**
   * Worker threads of this process's data-parallel passes (threadsPerProcess of the run's budget;
   * default 1: none, every pass on the calling thread).
   */
  readonly threads?: number;
  /** The backend the record names when none was initialised (everything came from the cache). */
  readonly plannedBackend: string;
  /** A backend initialised before the session (a run checks it before creating its record). */
  readonly initialBackend?: BackendInfo;
  /** Recompute every node and replace its cache entry (--no-cache / --force). */
  readonly overwrite: boolean;
  readonly terminal?: Terminal;
  readonly quiet?: boolean;
  readonly verbose?: boolean;
  /** The caller's stop signal (Ctrl-C). */
  readonly signal?: AbortSignal;
  /** Called once when the session is aborted, e.g. to stop worker processes. */
  readonly onAbort?: () => void;
  /** Log which backend was initialised (default true; a worker process leaves it to its parent). */
  readonly announceBackend?: boolean;
  /** Also receives the throttled progress records (a queue worker forwards them to Redis). */
  readonly onProgress?: (stageId: string, data: Record<string, unknown>) => void;
}

export interface SessionBackend {
  readonly name: string;
  readonly versions: Record<string, string>;
  /** Data-parallel threads each computing process uses (1 = none), for lock.json. */
  readonly threads?: number;
  /** XNNPACK threads of tfjs's threaded wasm build, when SCALPEL_WASM_THREADS started it. */
  readonly wasmThreads?: number;
}

export class ExecutionSession {
  readonly logging: RunLogging;
  readonly log: RunLogging['logger'];
  readonly progress: ProgressSink;
  readonly cache: Cache;
  readonly overwrite: boolean;
  /** Outputs of finished nodes, by hash (in-process execution). */
  readonly artifacts = new Map<string, Artifact>();
  private readonly controller = new AbortController();
  private readonly options: SessionOptions;
  private readonly onCallerAbort: () => void;
  private backendInit: Promise<string> | undefined;
  private backendInfo: SessionBackend;

  constructor(opts: SessionOptions) {
    this.options = opts;
    this.cache = opts.cache;
    this.overwrite = opts.overwrite;
    const terminal = opts.terminal ?? new Terminal();
    const verbosity = verbosityOf(opts);
    this.logging = new RunLogging({ terminal, verbosity, eventsFile: opts.eventsFile });
    this.log = this.logging.logger;
    this.progress = new ProgressSink({
      terminal,
      console: verbosity !== 'quiet',
      record: (stageId, data) => {
        this.logging.progress(stageId, data);
        opts.onProgress?.(stageId, data);
      },
    });
    this.backendInfo = { name: opts.plannedBackend, versions: {} };
    this.onCallerAbort = (): void => this.abort();
    if (opts.signal?.aborted === true) this.abort();
    opts.signal?.addEventListener('abort', this.onCallerAbort, { once: true });
  }

  /** Aborted by the caller's signal (or by abort()). */
  get signal(): AbortSignal {
    return this.controller.signal;
  }

  /** The backend in use, or the planned one while none is initialised. */
  get backend(): SessionBackend {
    return this.backendInfo;
  }

  abort(): void {
    if (this.controller.signal.aborted) return;
    this.controller.abort();
    this.options.onAbort?.();
  }

  /** Initialise the backend once (a bound function, handed to executeNode); resolves to its name. */
  readonly ensureBackend = (): Promise<string> => {
    const initial = this.options.initialBackend;
    this.backendInit ??= (
      initial !== undefined
        ? Promise.resolve(initial)
        : initBackend(this.options.backendChoice, wasmThreadsFromEnv())
    ).then((info) => {
      // The passes of src/parallel split over this many worker threads (1: none).
      const parallel = info.name === 'tensorflow' ? 1 : (this.options.threads ?? 1);
      configureDataParallel(parallel, info.name);
      this.backendInfo = {
        name: info.name,
        versions: info.versions,
        threads: parallel,
        ...(info.threads !== undefined && info.threads > 1 ? { wasmThreads: info.threads } : {}),
      };
      const threads =
        ` (${parallel} thread${parallel === 1 ? '' : 's'}` +
        (info.threads !== undefined && info.threads > 1 ? `, ${info.threads} wasm threads` : '') +
        ')';
      if (this.options.announceBackend !== false) this.log.info(`backend: ${info.name}${threads}`);
      return info.name;
    });
    return this.backendInit;
  };

  /** Remove the temp dirs of dead processes from the cache, saying so when there were any. */
  cleanStaleCache(): void {
    const removed = this.cache.cleanStale();
    if (removed > 0)
      this.log.info(
        `removed ${removed} unfinished cache entr${removed === 1 ? 'y' : 'ies'} of earlier runs`,
      );
  }

  /**
   * Take a node's inputs from the cache, where another process put them (a worker process is
   * handed one node whose inputs are complete). `producers`: the plan the node belongs to.
   */
  adoptInputs(node: ExecNode, producers: readonly ExecNode[]): void {
    for (const h of node.needs) {
      const entry = this.cache.lookup(h);
      const producer = producers.find((n) => n.key === h);
      if (entry === undefined || producer === undefined) {
        throw new ScalpelError(
          ErrorCode.Internal,
          `input ${h.slice(0, 12)} of '${node.stage.id}' is not in the cache`,
        );
      }
      this.artifacts.set(h, artifactOf(producer, entry));
    }
  }

  /** Run (or take from the cache) one node in this process. */
  execute(node: ExecNode): Promise<ExecResult> {
    return executeNode(node, {
      cache: this.cache,
      logging: this.logging,
      progress: this.progress,
      signal: this.signal,
      overwrite: this.overwrite,
      ensureBackend: this.ensureBackend,
      artifacts: this.artifacts,
    });
  }

  /** The graph is done: stop following the caller's signal and close progress bars. */
  stop(): void {
    this.options.signal?.removeEventListener('abort', this.onCallerAbort);
    this.progress.closeAll();
  }

  /** Flush and close events.jsonl. */
  close(): Promise<void> {
    return this.logging.close();
  }
}

/** The console and stop-signal settings of run or sweep options, as session options. */
export function consoleOptions(opts: {
  readonly terminal?: Terminal;
  readonly quiet?: boolean;
  readonly verbose?: boolean;
  readonly signal?: AbortSignal;
}): Pick<SessionOptions, 'terminal' | 'quiet' | 'verbose' | 'signal'> {
  return {
    ...(opts.terminal !== undefined ? { terminal: opts.terminal } : {}),
    ...(opts.quiet !== undefined ? { quiet: opts.quiet } : {}),
    ...(opts.verbose !== undefined ? { verbose: opts.verbose } : {}),
    ...(opts.signal !== undefined ? { signal: opts.signal } : {}),
  };
}
