// A small pool of annealer worker threads, created once and reused by every solve call (iCBS
// solves hundreds of block problems; thread start-up must not be paid per call). Tasks of all
// pending calls share one FIFO queue. Idle workers are unref'ed so they never keep a CLI run
// alive; a busy worker is ref'ed so that an awaited solve keeps the process running.
import { Worker } from 'node:worker_threads';
import type { RestartDone, RestartTask, WorkerReply } from './protocol.js';

interface Pending {
  readonly task: RestartTask;
  /** Only workers with index < slots may run it (the task's memory has that many field slots). */
  readonly slots: number;
  resolve(done: RestartDone): void;
  reject(err: Error): void;
}

interface PoolWorker {
  readonly index: number;
  readonly worker: Worker;
  current: Pending | undefined;
}

const workerUrl = new URL('./sa-worker.js', import.meta.url);

export class SaWorkerPool {
  private readonly workers: PoolWorker[] = [];
  private readonly queue: Pending[] = [];
  private closed = false;

  /** Number of threads started so far. */
  get size(): number {
    return this.workers.length;
  }

  /** Starts threads until there are at least `count`. */
  ensure(count: number): void {
    if (this.closed) throw new Error('the annealer worker pool is closed');
    while (this.workers.length < count) this.workers.push(this.start(this.workers.length));
  }

  /** Runs one restart on a worker whose index is below `slots`. */
  run(task: RestartTask, slots: number): Promise<RestartDone> {
    this.ensure(slots);
    return new Promise<RestartDone>((resolve, reject) => {
      this.queue.push({ task, slots, resolve, reject });
      this.dispatch();
    });
  }

  async close(): Promise<void> {
    this.closed = true;
    const err = new Error('the annealer worker pool was closed');
    for (const p of this.queue.splice(0)) p.reject(err);
    const ws = this.workers.splice(0);
    for (const w of ws) w.current?.reject(err);
    await Promise.all(ws.map((w) => w.worker.terminate()));
  }

  private start(index: number): PoolWorker {
    // The parent's --input-type (node -e scripts) would make the worker's own module fail.
    const execArgv = process.execArgv.filter((a) => !a.startsWith('--input-type'));
    const worker = new Worker(workerUrl, { workerData: { slot: index }, execArgv });
    worker.unref();
    const pw: PoolWorker = { index, worker, current: undefined };
    worker.on('message', (reply: WorkerReply) => {
      const p = pw.current;
      pw.current = undefined;
      worker.unref();
      if (p !== undefined) {
        if (reply.type === 'done') p.resolve(reply);
        else p.reject(new Error(`annealer restart ${reply.restart} failed: ${reply.message}`));
      }
      this.dispatch();
    });
    const lost = (err: Error): void => {
      const p = pw.current;
      pw.current = undefined;
      // Replace the dead thread so later calls still have a full pool.
      if (!this.closed && this.workers[index] === pw) this.workers[index] = this.start(index);
      p?.reject(err);
      this.dispatch();
    };
    worker.on('error', (e: Error) => lost(e));
    worker.on('exit', (code) => {
      if (!this.closed) lost(new Error(`annealer worker thread exited with code ${code}`));
    });
    return pw;
  }

  private dispatch(): void {
    for (const w of this.workers) {
      if (w.current !== undefined) continue;
      const qi = this.queue.findIndex((p) => w.index < p.slots);
      if (qi < 0) continue;
      const [p] = this.queue.splice(qi, 1);
      if (p === undefined) continue;
      w.current = p;
      w.worker.ref();
      w.worker.postMessage(p.task);
    }
  }
}
