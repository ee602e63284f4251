// The `sa` solver: cardinality-constrained simulated annealing (docs: icbs.md, "The block
// solver"). Restarts run in parallel on a reused pool of worker threads; each restart's chain is
// seeded from ctx.seed and its index alone, and the best is chosen by exact energy with ties to
// the lowest restart index, so the answer never depends on the number of workers or on timing.
import { ErrorCode, ScalpelError } from '../../errors.js';
import type {
  QuboSolver,
  SolveContext,
  SolveResult,
  CardinalityQubo,
} from '../../plugin-api/solver.js';
import { readSchema } from '../../util/schemas.js';
import { deriveSeed, Rng } from '../../util/rng.js';
import { checkProblem, checkSolution, initialState, quboEnergyOfOnes } from '../problem.js';
import { symmetricQubo } from './anneal.js';
import { resolveSaParams } from './params.js';
import { SaWorkerPool } from './pool.js';
import type { RestartDone, RestartTask } from './protocol.js';
import { RestartRunner } from './run-restart.js';
import { betaSchedule } from './schedule.js';
import { createSharedMemory, sharedLayout, sharedS } from './wasm-kernel.js';

/** The xoshiro128** state of restart `r` (never all zero). */
export function restartSeedState(seed: number, restart: number): Int32Array {
  const rng = new Rng(deriveSeed(seed, `solvers/sa/restart/${restart}`));
  const s = Int32Array.from([
    rng.nextUint32(),
    rng.nextUint32(),
    rng.nextUint32(),
    rng.nextUint32(),
  ]);
  if (s.every((v) => v === 0)) s[0] = 1;
  return s;
}

let nextJobId = 1;

export class SaSolver implements QuboSolver {
  readonly name = 'sa';
  readonly version = '1';
  readonly description =
    'Cardinality-constrained simulated annealing (swap moves, geometric β schedule, parallel restarts)';
  /** Grouped problems (iCBS N:M) anneal with swaps inside a group (group-anneal.ts). */
  readonly groupConstraints = true;
  get schema(): Record<string, unknown> {
    return readSchema('solvers/sa.schema.json');
  }
  private pool: SaWorkerPool | undefined;
  private inProcess: RestartRunner | undefined;

  async solve(
    problem: CardinalityQubo,
    params: Record<string, unknown>,
    ctx: SolveContext,
  ): Promise<SolveResult> {
    const started = performance.now();
    checkProblem(problem, this.name);
    const p = resolveSaParams(params);
    ctx.signal?.throwIfAborted();
    const { n, k, Q } = problem;
    const initial = initialState(problem);
    const base = { restarts: p.restarts, workers: p.workers };
    if (k === 0 || k === n) {
      // Only one feasible state: nothing to anneal.
      const energy = quboEnergyOfOnes(Q, n, initial);
      return {
        x: initial,
        energy,
        stats: {
          ...base,
          temperatures: 0,
          proposals: 0,
          accepted: 0,
          wallMs: performance.now() - started,
        },
      };
    }

    const slots = Math.max(1, p.workers);
    const betas = betaSchedule(p);
    const layout = sharedLayout(n, slots, betas.length);
    const memory = createSharedMemory(layout);
    const sym = symmetricQubo(Q, n, sharedS(memory, layout));
    const jobId = nextJobId++;
    const task = (restart: number): RestartTask => ({
      type: 'run',
      jobId,
      restart,
      memory,
      layout,
      diag: sym.diag,
      initial,
      betas,
      sweeps: p.sweeps,
      descent: p.descent,
      seedState: restartSeedState(ctx.seed, restart),
      ...(problem.groups !== undefined ? { groups: problem.groups.group } : {}),
    });

    let best: { x: Uint8Array; energy: number; restart: number } | undefined;
    let temperatures = 0;
    let proposals = 0;
    let accepted = 0;
    let descentSwaps = 0;
    const consider = (d: RestartDone): void => {
      checkSolution(d.x, n, k, this.name, problem.groups);
      const energy = quboEnergyOfOnes(Q, n, d.x);
      // Ties go to the lowest restart index: the same answer whatever order restarts finish in.
      if (
        best === undefined ||
        energy < best.energy ||
        (energy === best.energy && d.restart < best.restart)
      ) {
        best = { x: d.x, energy, restart: d.restart };
      }
      temperatures += d.temperatures;
      proposals += d.proposals;
      accepted += d.accepted;
      descentSwaps += d.descentSwaps;
    };

    if (p.workers === 0) {
      this.inProcess ??= new RestartRunner(0);
      for (let r = 0; r < p.restarts; r++) {
        ctx.signal?.throwIfAborted();
        consider(this.inProcess.run(task(r)));
      }
    } else {
      this.pool ??= new SaWorkerPool();
      const runs: Promise<void>[] = [];
      for (let r = 0; r < p.restarts; r++) runs.push(this.pool.run(task(r), slots).then(consider));
      try {
        await Promise.all(runs);
      } catch (e) {
        if (e instanceof ScalpelError) throw e;
        throw new ScalpelError(
          ErrorCode.Internal,
          `solver 'sa': a worker thread failed: ${e instanceof Error ? e.message : String(e)}`,
          { cause: e },
        );
      }
    }
    // Restarts already queued finish (each takes well under a second); then honour an abort.
    ctx.signal?.throwIfAborted();
    if (best === undefined)
      throw new ScalpelError(ErrorCode.Internal, "solver 'sa': no restart finished");
    const stats = {
      ...base,
      /** Mean number of temperatures run per restart (the early stop shortens it). */
      temperatures: temperatures / p.restarts,
      proposals,
      accepted,
      acceptance: proposals === 0 ? 0 : accepted / proposals,
      descentSwaps,
      bestRestart: best.restart,
      wallMs: performance.now() - started,
    };
    return { x: best.x, energy: best.energy, stats };
  }

  async close(): Promise<void> {
    const pool = this.pool;
    this.pool = undefined;
    await pool?.close();
  }
}

export const sa = new SaSolver();
