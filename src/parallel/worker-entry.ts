// A data-parallel worker thread (pool.ts starts it): its own single-threaded tfjs backend, the
// model replicas it is sent (replica-host.ts), and the passes' shard work, one request at a time
// in the order they come.
import { parentPort, workerData } from 'node:worker_threads';
import { ScalpelError } from '../errors.js';
import { initBackend } from '../models/backend.js';
import { statisticsOfBatch } from './calibration.js';
import { evaluateShard } from './evaluation.js';
import { ShardGradients } from './gradients.js';
import {
  transferablesOf,
  type Reply,
  type Request,
  type TaskResult,
  type WireError,
  type WorkerStart,
} from './protocol.js';
import { ReplicaHost } from './replica-host.js';
import { trainingGradientsOf } from './training.js';

const port = parentPort;
if (port === null) throw new Error('worker-entry.js must run as a worker thread');
const start = workerData as WorkerStart;
// One thread per worker: the data-parallel split is the parallelism.
const ready = initBackend(start.backend, 1);
const host = new ReplicaHost();
const gradients = new ShardGradients();

async function handle(request: Request): Promise<TaskResult> {
  await ready;
  if (request.drop !== undefined) host.drop(request.drop);
  const task = request.task;
  if (task.type === 'mean-rows') return gradients.meanRows(task);
  if (task.type === 'release') return gradients.release(task.handle);
  if (task.type === 'block-gradients')
    return gradients.blockGradients(task.handle, task.layer, task.block, task.out);
  if (task.type === 'outer-matrices')
    return gradients.matrices(task.handle, task.layer, task.a, task.e);
  if (request.replica === undefined)
    throw new Error(`request '${task.type}' names no model replica`);
  const model = await host.model(request.replica, request.weights);
  switch (task.type) {
    case 'evaluate':
      return evaluateShard(model, task.samples, task.opts);
    case 'gradients':
      return gradients.compute(model, task.handle, task.batch, task.layers);
    case 'statistics':
      return statisticsOfBatch(model, task.samples, task.requests);
    case 'train-gradients':
      return trainingGradientsOf(model, task.batch, task.divisor, task.seed);
  }
}

function wireError(e: unknown): WireError {
  if (e instanceof ScalpelError) {
    return {
      message: e.message,
      code: e.code,
      ...(e.hint !== undefined ? { hint: e.hint } : {}),
      ...(e.layer !== undefined ? { layer: e.layer } : {}),
    };
  }
  const err = e instanceof Error ? e : new Error(String(e));
  return { message: err.message, ...(err.stack !== undefined ? { stack: err.stack } : {}) };
}

// Requests run one after another (a pass's requests to one worker are ordered).
let queue: Promise<void> = Promise.resolve();
port.on('message', (request: Request) => {
  queue = queue.then(async () => {
    let reply: Reply;
    let transfer: ArrayBuffer[] = [];
    try {
      const result = await handle(request);
      reply = { id: request.id, ok: true, result };
      transfer = transferablesOf(result);
    } catch (e) {
      reply = { id: request.id, ok: false, error: wireError(e) };
    }
    port.postMessage(reply, transfer);
  });
});
