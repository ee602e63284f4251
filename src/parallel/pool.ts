// The data-parallel worker threads of one process: started on first use, reused by every pass
// (a thread's start-up — its own wasm backend, a model replica — must not be paid per call), and
// closed when the run ends (engine/run.ts, like the annealer's pool). Each worker answers its
// requests in order, so a pass posts shard i to worker i and awaits them all. Idle workers are
// unref'ed so they never keep a process alive; a busy one is ref'ed.
import { Worker } from 'node:worker_threads';
import { ErrorCode, ScalpelError, type ErrorCode as Code } from '../errors.js';
import type { BackendName } from '../models/backend.js';
import type {
  Reply,
  Request,
  TaskRequest,
  TaskResult,
  WeightsMessage,
  WireError,
  WorkerStart,
} from './protocol.js';
import type { ModelReplica } from './replica.js';

interface Pending {
  resolve(result: TaskResult): void;
  reject(err: Error): void;
}

interface PoolWorker {
  readonly index: number;
  readonly worker: Worker;
  readonly pending: Map<number, Pending>;
  /** Replica id → the weights version this worker has. */
  readonly versions: Map<number, number>;
  /** Replicas to tell this worker to drop with its next request. */
  readonly drop: Set<number>;
}

const workerUrl = new URL('./worker-entry.js', import.meta.url);
const codes = new Set<string>(Object.values(ErrorCode));

/** A worker's failure as the ScalpelError it was (or E_INTERNAL for anything else). */
function fromWire(e: WireError, worker: number): ScalpelError {
  const code = e.code !== undefined && codes.has(e.code) ? (e.code as Code) : ErrorCode.Internal;
  return new ScalpelError(code, e.message, {
    hint:
      e.hint ??
      `data-parallel worker thread ${worker} failed; threads: 1 runs the pass on the run's thread` +
        (e.stack !== undefined ? ` (${e.stack.split('\n').slice(0, 3).join(' | ')})` : ''),
    ...(e.layer !== undefined ? { layer: e.layer } : {}),
  });
}

export class DataParallelPool {
  private readonly workers: (PoolWorker | undefined)[] = [];
  private nextId = 1;
  private closed = false;
  /** Tasks the workers finished (successfully or not): tells a pass ran here (tests, logs). */
  completed = 0;

  constructor(
    /** Worker threads of this pool. */
    readonly threads: number,
    /** The backend every worker thread starts. */
    readonly backend: BackendName,
  ) {}

  /**
   * Runs `task` on worker `index % threads`, on the model of `on.replica` with its variables at
   * `on.weights` (sent first when that worker's copy is older).
   */
  run(
    index: number,
    task: TaskRequest,
    on?: { readonly replica: ModelReplica; readonly weights: WeightsMessage },
    transfer: ArrayBuffer[] = [],
  ): Promise<TaskResult> {
    if (this.closed) {
      return Promise.reject(
        new ScalpelError(ErrorCode.Internal, 'the data-parallel worker pool is closed'),
      );
    }
    const w = this.worker(index % this.threads);
    const id = this.nextId++;
    let weights: Request['weights'];
    const replica = on?.replica;
    if (on !== undefined) {
      if ((w.versions.get(on.replica.id) ?? 0) < on.weights.version) {
        weights = on.weights;
        w.versions.set(on.replica.id, on.weights.version);
      }
    }
    const drop = [...w.drop];
    w.drop.clear();
    const request: Request = {
      id,
      ...(replica !== undefined ? { replica: replica.source } : {}),
      ...(weights !== undefined ? { weights } : {}),
      ...(drop.length > 0 ? { drop } : {}),
      task,
    };
    return new Promise<TaskResult>((resolve, reject) => {
      w.pending.set(id, { resolve, reject });
      w.worker.ref();
      w.worker.postMessage(request, transfer);
    });
  }

  /** Workers drop their copies of `replica` with their next request. */
  forget(replica: ModelReplica): void {
    for (const w of this.workers) {
      if (w?.versions.delete(replica.id) === true) w.drop.add(replica.id);
    }
  }

  async close(): Promise<void> {
    this.closed = true;
    const ws = this.workers.splice(0).filter((w) => w !== undefined);
    const err = new ScalpelError(ErrorCode.Internal, 'the data-parallel worker pool was closed');
    for (const w of ws) for (const p of w.pending.values()) p.reject(err);
    // ref'ed while they stop: an unref'ed worker's exit would not keep the caller's await alive.
    await Promise.all(
      ws.map((w) => {
        w.worker.ref();
        return w.worker.terminate();
      }),
    );
  }

  private worker(index: number): PoolWorker {
    let w = this.workers[index];
    if (w === undefined) {
      w = this.start(index);
      this.workers[index] = w;
    }
    return w;
  }

  private start(index: number): PoolWorker {
    // The parent's --input-type (node -e scripts) would make the worker's own module fail.
    const execArgv = process.execArgv.filter((a) => !a.startsWith('--input-type'));
    const workerData: WorkerStart = { backend: this.backend };
    const worker = new Worker(workerUrl, { workerData, execArgv });
    worker.unref();
    const w: PoolWorker = {
      index,
      worker,
      pending: new Map(),
      versions: new Map(),
      drop: new Set(),
    };
    worker.on('message', (reply: Reply) => {
      const p = w.pending.get(reply.id);
      w.pending.delete(reply.id);
      // (Not while closing: close() keeps the worker ref'ed until it has exited.)
      if (w.pending.size === 0 && !this.closed) worker.unref();
      if (p === undefined) return;
      this.completed++;
      if (reply.ok) p.resolve(reply.result);
      else p.reject(fromWire(reply.error, index));
    });
    const lost = (err: Error): void => {
      // The next request starts a new thread (its replicas are loaded again on demand).
      if (this.workers[index] === w) this.workers[index] = undefined;
      const e = new ScalpelError(
        ErrorCode.Internal,
        `data-parallel worker thread ${index} died: ${err.message}`,
        { hint: "threads: 1 runs every pass on the run's thread", cause: err },
      );
      for (const p of w.pending.values()) p.reject(e);
      w.pending.clear();
    };
    worker.on('error', (e: Error) => lost(e));
    worker.on('exit', (code) => {
      if (!this.closed) lost(new Error(`exited with code ${code}`));
    });
    return w;
  }
}
