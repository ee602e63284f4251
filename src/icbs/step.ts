// One iCBS step on one layer (docs: icbs.md): gradients of the step's batch at the current weights
// → block selection → g and H of the block → the block QUBO (src/icbs/qubo.ts) → scale → solve
// with exactly k ones → apply the new decisions (pruned weights 0, kept weights exactly w0).
// In N:M mode (params.pattern) the block is whole groups and the solver also keeps every group's
// number of ones (group-selection.ts).
import { ErrorCode, ScalpelError } from '../errors.js';
import type { Logger } from '../plugin-api/stage.js';
import type { QuboSolver } from '../plugin-api/solver.js';
import {
  type BlockCurvature,
  exactCurvature,
  fisherCurvature,
  gradientMeanCurvature,
} from '../models/block-hessian.js';
import type { GradientEngine } from '../models/per-sample-gradients.js';
import type { ParallelGradients } from '../parallel/gradients.js';
import type { PrunableModel } from '../plugin-api/model.js';
import type { Batch } from '../plugin-api/task.js';
import type { Rng } from '../util/rng.js';
import { buildBlockQubo, firstKPruned, predictedDeltaL, scaleQubo } from './qubo.js';
import { type Block, selectBlock } from './block-selection.js';
import { selectGroupBlock } from './group-selection.js';
import { groupViolation } from '../solvers/problem.js';
import type { BlockBuffers } from './block-buffers.js';
import type { LayerState } from './layer-state.js';
import type { IcbsParams } from './params.js';

export interface StepEnv {
  readonly model: PrunableModel;
  readonly engine: GradientEngine;
  /** The same gradients on data-parallel worker threads, when the run has them (src/parallel). */
  readonly parallel?: ParallelGradients;
  readonly params: IcbsParams;
  readonly solver: QuboSolver;
  /** The solver's parameters (without `uses`). */
  readonly solverParams: Record<string, unknown>;
  readonly signal: AbortSignal;
  readonly log: Logger;
  /** Q buffers reused across the run's steps (fresh arrays per step when absent). */
  readonly buffers?: BlockBuffers;
}

export interface StepTimes {
  gradients: number;
  hessian: number;
  qubo: number;
  solve: number;
  total: number;
}

export interface StepRecord {
  step: number;
  epoch: number;
  layer: string;
  /** n: variables of the block. */
  blockSize: number;
  k: number;
  wholeLayer: boolean;
  /** Tabu entries released early to fill this block. */
  tabuEvicted: number;
  /** Predicted change of loss of the chosen decisions (γgᵀδ + ½δᵀHδ; 0 when unchanged). */
  predictedDeltaL: number;
  /** Unscaled QUBO energy xᵀQx of the current state and of the solver's answer. */
  energyBefore: number;
  energyAfter: number;
  changed: boolean;
  /** Weights whose status flipped in this step. */
  flips: number;
  /** Why nothing was solved (e.g. the block had no kept candidates), when so. */
  skipped?: string;
  solverStats?: Record<string, number>;
  timeMs: StepTimes;
}

function xEnergy(Q: Float64Array, n: number, x: Uint8Array): number {
  let e = 0;
  for (let i = 0; i < n; i++) {
    if (x[i] === 0) continue;
    for (let j = 0; j < n; j++) if (x[j] !== 0) e += Q[i * n + j] as number;
  }
  return e;
}

/** |w0 ⊙ ḡ| with ḡ the mean gradient of the step's batch at the current weights. */
function gradientSelectionScores(w0: Float32Array, meanGradient: Float32Array): Float32Array {
  const s = new Float32Array(w0.length);
  for (let j = 0; j < s.length; j++)
    s[j] = Math.abs((w0[j] as number) * (meanGradient[j] as number));
  return s;
}

export async function runStep(
  env: StepEnv,
  state: LayerState,
  batch: Batch,
  where: { step: number; epoch: number; solverSeed: number },
  rng: Rng,
): Promise<StepRecord> {
  const { params } = env;
  const t0 = performance.now();
  const times: StepTimes = { gradients: 0, hessian: 0, qubo: 0, solve: 0, total: 0 };
  const base = { step: where.step, epoch: where.epoch, layer: state.name };

  const needG = params.hessian !== 'exact';
  const grads =
    needG || params.selection === 'gradient'
      ? ((await env.parallel?.compute(batch, state.name)) ??
        env.engine.compute(batch, [state.name]).get(state.name))
      : undefined;
  try {
    let scores: ArrayLike<number> | undefined = state.selectionScores;
    if (params.selection === 'gradient' && grads !== undefined) {
      scores = gradientSelectionScores(state.w0, await grads.meanGradient());
    }
    const block: Block =
      params.pattern !== undefined
        ? selectGroupBlock(state, scores, params.blockSize, params.pattern, rng)
        : selectBlock(state, scores, params.blockSize, params.k, rng);
    const groups = block.groups;
    const n = block.indices.length;
    const k = block.k;
    if (k === 0 || k === n) {
      times.gradients = performance.now() - t0;
      times.total = times.gradients;
      return {
        ...base,
        blockSize: n,
        k,
        wholeLayer: block.wholeLayer,
        tabuEvicted: block.evicted,
        predictedDeltaL: 0,
        energyBefore: 0,
        energyAfter: 0,
        changed: false,
        flips: 0,
        skipped:
          groups !== undefined
            ? 'no N:M group with both a pruned and a kept free weight'
            : k === 0
              ? 'no pruned candidates'
              : 'no kept candidates',
        timeMs: times,
      };
    }

    let curvature: BlockCurvature;
    if (params.hessian === 'exact') {
      times.gradients = performance.now() - t0;
      const th = performance.now();
      curvature = exactCurvature(env.engine, batch, state.name, block.indices);
      times.hessian = performance.now() - th;
    } else {
      const G = await (grads as NonNullable<typeof grads>).blockGradients(block.indices);
      times.gradients = performance.now() - t0;
      const th = performance.now();
      curvature =
        params.hessian === 'fisher'
          ? fisherCurvature(G, env.model.task.termsPerSample?.(batch) ?? 1)
          : gradientMeanCurvature(G);
      times.hessian = performance.now() - th;
    }

    const tq = performance.now();
    const w0B = new Float32Array(n);
    for (let b = 0; b < n; b++) w0B[b] = state.w0[block.indices[b] as number] as number;
    const current = firstKPruned(n, k);
    const qubo = buildBlockQubo(
      {
        w0: w0B,
        pruned: current,
        g: curvature.g,
        H: curvature.H,
        gamma: params.gradMultiplier,
        lambda: params.ridgeMultiplier,
      },
      env.buffers?.quboFor(n),
    );
    const scaled = scaleQubo(qubo.Q, undefined, env.buffers?.scaledFor(n));
    times.qubo = performance.now() - tq;

    const ts = performance.now();
    const result = await env.solver.solve(
      { n, k, Q: scaled.Q, initial: current, ...(groups !== undefined ? { groups } : {}) },
      env.solverParams,
      { seed: where.solverSeed, signal: env.signal, log: env.log },
    );
    times.solve = performance.now() - ts;
    let ones = 0;
    let binary = result.x.length === n;
    for (let b = 0; b < result.x.length; b++) {
      const v = result.x[b];
      if (v === 1) ones++;
      else if (v !== 0) binary = false;
    }
    if (!binary || ones !== k) {
      throw new ScalpelError(
        ErrorCode.Internal,
        `solver '${env.solver.name}' returned ${binary ? `${ones} ones` : 'a non-binary state'} for a block of ${n} with k = ${k} (layer '${state.name}', step ${where.step})`,
        {
          layer: state.name,
          hint: 'the solver must return exactly k ones; this is a bug in the solver',
        },
      );
    }
    const broken = groups !== undefined ? groupViolation(result.x, groups) : undefined;
    if (broken !== undefined) {
      throw new ScalpelError(
        ErrorCode.Internal,
        `solver '${env.solver.name}' broke an N:M group of the block (${broken}; layer '${state.name}', step ${where.step})`,
        {
          layer: state.name,
          hint: 'a solver with groupConstraints: true must keep every group’s number of ones; this is a bug in the solver',
        },
      );
    }

    const energyBefore = xEnergy(qubo.Q, n, current);
    let x = result.x;
    let energyAfter = xEnergy(qubo.Q, n, x);
    // Never step uphill on the model: a solver answer worse than the current state is dropped.
    if (energyAfter > energyBefore) {
      x = current;
      energyAfter = energyBefore;
    }
    let flips = 0;
    for (let b = 0; b < n; b++) if (x[b] !== current[b]) flips++;
    const changed = state.applyBlock(block.indices, x);
    if (changed) env.model.writeWeight(state.name, state.weights);
    state.tabu.push(block.indices);
    times.total = performance.now() - t0;
    return {
      ...base,
      blockSize: n,
      k,
      wholeLayer: block.wholeLayer,
      tabuEvicted: block.evicted,
      predictedDeltaL: changed ? predictedDeltaL(qubo, x) : 0,
      energyBefore,
      energyAfter,
      changed,
      flips,
      ...(result.stats !== undefined ? { solverStats: result.stats } : {}),
      timeMs: times,
    };
  } finally {
    grads?.dispose();
  }
}
