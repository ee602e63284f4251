// Runs one restart of a task against its shared memory: used by the worker threads and, with
// `workers: 0`, in the calling thread. Keeps the per-job state (wasm instance) between tasks.
import type { ChainOptions, ChainResult, SymmetricQubo } from './anneal.js';
import { annealGroupChain } from './group-anneal.js';
import type { RestartDone, RestartTask } from './protocol.js';
import { sharedS, WasmChainRunner } from './wasm-kernel.js';

export class RestartRunner {
  private jobId = -1;
  private runner: WasmChainRunner | undefined;
  private problem: SymmetricQubo | undefined;

  /** `slot`: this thread's slot in the shared memory. */
  constructor(private readonly slot: number) {}

  run(task: RestartTask): RestartDone {
    if (task.jobId !== this.jobId || this.runner === undefined) {
      const problem: SymmetricQubo = {
        n: task.layout.n,
        S: sharedS(task.memory, task.layout),
        diag: task.diag,
      };
      this.runner = new WasmChainRunner(task.memory, task.layout, this.slot, problem);
      this.problem = problem;
      this.jobId = task.jobId;
    }
    const opts: ChainOptions = {
      betas: task.betas,
      sweeps: task.sweeps,
      seedState: task.seedState,
      descent: task.descent,
    };
    // Grouped problems: the JS chain of group moves, over this slot's (SIMD) field kernel.
    const r: ChainResult =
      task.groups !== undefined
        ? annealGroupChain(
            this.problem as SymmetricQubo,
            task.initial,
            task.groups,
            opts,
            this.runner.kernel,
          )
        : this.runner.run(task.initial, opts);
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
