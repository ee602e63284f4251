// Up to N long-lived worker processes (child_process.fork of worker.js) that execute graph nodes
// one at a time each. Not sweep-specific: a task is a node hash inside one recipe (file + --set
// strings), so a plain run can use it as a sweep does. The scheduler already bounds concurrency to
// N, so a task always finds an idle worker or room for a new one. Workers inherit stdio, so their
// log lines and progress appear on the parent's console.
import { fork, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { ErrorCode, ScalpelError, deserializeError } from '../errors.js';
import type { FromWorker, WorkerTask } from './worker-protocol.js';

const workerScript = fileURLToPath(new URL('./worker.js', import.meta.url));

interface Worker {
  readonly child: ChildProcess;
  busy: { id: number; resolve(s: 'ran' | 'cached'): void; reject(e: unknown): void } | undefined;
  exited: boolean;
}

export class WorkerPool {
  private readonly size: number;
  private readonly workers: Worker[] = [];
  private nextId = 1;
  private closed = false;

  constructor(size: number) {
    this.size = size;
  }

  private spawn(): Worker {
    const child = fork(workerScript, [], {
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
      serialization: 'json',
    });
    const w: Worker = { child, busy: undefined, exited: false };
    child.on('message', (msg: FromWorker) => {
      if (msg.type === 'ready' || w.busy === undefined || msg.id !== w.busy.id) return;
      const task = w.busy;
      w.busy = undefined;
      if (msg.type === 'done') task.resolve(msg.status);
      else task.reject(deserializeError(msg.error));
    });
    child.on('exit', (code, signal) => {
      w.exited = true;
      const task = w.busy;
      w.busy = undefined;
      task?.reject(
        new ScalpelError(
          ErrorCode.Stage,
          `a stage worker process died (${signal ?? `exit code ${code ?? '?'}`}) while running a stage`,
          {
            hint: 'out of memory? try a smaller --jobs; rerun the same command to resume',
          },
        ),
      );
    });
    child.on('error', () => {
      // 'exit' follows and rejects the task.
    });
    this.workers.push(w);
    return w;
  }

  /** Run one node in a worker; resolves to ran/cached or rejects with the stage's ScalpelError. */
  run(task: Omit<WorkerTask, 'type' | 'id'>): Promise<'ran' | 'cached'> {
    if (this.closed)
      return Promise.reject(new ScalpelError(ErrorCode.Internal, 'stage worker pool is closed'));
    let w = this.workers.find((x) => !x.exited && x.busy === undefined);
    if (w === undefined) {
      const alive = this.workers.filter((x) => !x.exited).length;
      if (alive >= this.size)
        return Promise.reject(
          new ScalpelError(ErrorCode.Internal, 'stage worker pool: no idle worker'),
        );
      w = this.spawn();
    }
    const worker = w;
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      worker.busy = { id, resolve, reject };
      worker.child.send({ ...task, type: 'run', id } satisfies WorkerTask);
    });
  }

  /** Ask running stages to stop (they see ctx.signal aborted). */
  abort(): void {
    for (const w of this.workers)
      if (!w.exited && w.busy !== undefined) w.child.send({ type: 'abort' });
  }

  /** Disconnect every worker (they exit) and wait for them, killing stragglers after `graceMs`. */
  async close(graceMs = 3000): Promise<void> {
    this.closed = true;
    const alive = this.workers.filter((w) => !w.exited);
    await Promise.all(
      alive.map(
        (w) =>
          new Promise<void>((res) => {
            const timer = setTimeout(() => {
              w.child.kill('SIGKILL');
            }, graceMs);
            w.child.once('exit', () => {
              clearTimeout(timer);
              res();
            });
            if (w.child.connected) w.child.disconnect();
            else w.child.kill('SIGTERM');
          }),
      ),
    );
  }
}
