// Worker thread of the annealer pool: runs restarts it is sent, one at a time.
import { parentPort, workerData } from 'node:worker_threads';
import type { RestartTask, WorkerReply } from './protocol.js';
import { RestartRunner } from './run-restart.js';

const port = parentPort;
if (port === null) throw new Error('sa-worker.js must run as a worker thread');
const slot = (workerData as { slot: number }).slot;
const runner = new RestartRunner(slot);

port.on('message', (task: RestartTask) => {
  let reply: WorkerReply;
  try {
    reply = runner.run(task);
  } catch (e) {
    reply = {
      type: 'failed',
      jobId: task.jobId,
      restart: task.restart,
      message: e instanceof Error ? (e.stack ?? e.message) : String(e),
    };
  }
  port.postMessage(reply, reply.type === 'done' ? [reply.x.buffer as ArrayBuffer] : []);
});
