// A worker thread of host-ceiling.ts: its own single-threaded wasm backend and one workload; on
// each `{ runs }` message it runs the workload that many times and replies with the times (ms).
import { parentPort, workerData } from 'node:worker_threads';
import { initBackend } from '../../src/models/backend.js';
import { loadWorkload, type WorkloadName } from './single-thread-workloads.js';

const port = parentPort;
if (port === null) throw new Error('ceiling-worker.js must run as a worker thread');
await initBackend('wasm', 1);
const run = await loadWorkload((workerData as { workload: WorkloadName }).workload);
await run(); // warm-up: kernels set up, heap grown
port.on('message', (m: { runs: number }) => {
  void (async () => {
    const times: number[] = [];
    for (let i = 0; i < m.runs; i++) {
      const t0 = performance.now();
      await run();
      times.push(performance.now() - t0);
    }
    port.postMessage(times);
  })();
});
port.postMessage('ready');
