// Runs one restart of a task against its shared memory: used by the worker threads and, with
// `workers: 0`, in the calling thread. Keeps the per-job state (kernel instance) between tasks.
import { annealChain, type SymmetricQubo } from './anneal.js';
import type { RestartDone, RestartTask } from './protocol.js';
import { sharedS, wasmFieldKernel } from './wasm-kernel.js';
import type { FieldKernel } from './anneal.js';

export class RestartRunner {
  private jobId = -1;
  private problem: SymmetricQubo | undefined;
  private kernel: FieldKernel | undefined;

  /** `slot`: this thread's field slot in the shared memory. */
  constructor(private readonly slot: number) {}

  run(task: RestartTask): RestartDone {
    if (task.jobId !== this.jobId || this.problem === undefined || this.kernel === undefined) {
      const problem: SymmetricQubo = {
        n: task.layout.n,
        S: sharedS(task.memory, task.layout),
        diag: task.diag,
      };
      this.kernel = wasmFieldKernel(task.memory, task.layout, this.slot, problem);
      this.problem = problem;
      this.jobId = task.jobId;
    }
    const r = annealChain(
      this.problem,
      task.initial,
      { betas: task.betas, sweeps: task.sweeps, seedState: task.seedState, descent: task.descent },
      this.kernel,
    );
    return {
      type: 'done',
      jobId: task.jobId,
      restart: task.restart,
      x: r.x,
      trackedEnergy: r.trackedEnergy,
      temperatures: r.temperatures,
      proposals: r.proposals,
      accepted: r.accepted,
      descentSwaps: r.descentSwaps,
    };
  }
}
