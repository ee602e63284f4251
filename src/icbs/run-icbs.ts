// The iCBS loop: initial masks, then `epochs` × `steps` block steps over a per-epoch shuffled
// layer schedule, each on the next batch of the training split (wrapping around), with a
// structured event per step, a progress bar, and an optional quality curve. The model's kernels
// hold the current masked weights during the run and are restored to the originals at the end
// (the prune stage applies the returned masks).
import { ErrorCode, ScalpelError } from '../errors.js';
import { BatchCursor, disposeBatch } from '../data/batches.js';
import type { PruneArgs, PruneResult } from '../plugin-api/pruner.js';
import type { QuboSolver } from '../plugin-api/solver.js';
import { GradientEngine } from '../models/per-sample-gradients.js';
import { ParallelGradients } from '../parallel/gradients.js';
import { magnitudeScores, wandaScores } from '../pruning/scores.js';
import { deriveSeed } from '../util/rng.js';
import { computeInitStatistics, type InitStatistics } from './init-statistics.js';
import { initLayer } from './init-mask.js';
import { BlockBuffers } from './block-buffers.js';
import type { LayerState } from './layer-state.js';
import type { IcbsParams } from './params.js';
import { epochSchedule, stepsPerLayer } from './schedule.js';
import { runStep, type StepRecord, type StepTimes } from './step.js';
import { gatherForModel } from './batch-input.js';
import {
  type CurvePoint,
  describeQuality,
  evaluateNow,
  validationSubset,
} from './evaluate-subset.js';

export interface IcbsSolver {
  readonly solver: QuboSolver;
  /** Validated parameters without `uses`. */
  readonly params: Record<string, unknown>;
}

function requireSplit(args: PruneArgs<IcbsParams>, name: string, what: string) {
  const dataset = args.dataset;
  if (dataset === undefined) {
    throw new ScalpelError(
      ErrorCode.Stage,
      'icbs needs a dataset input (it reads training batches)',
      {
        hint: 'add the load-dataset stage to `needs` of the icbs / prune stage',
      },
    );
  }
  const split = dataset.splits.get(name);
  if (split === undefined) {
    throw new ScalpelError(ErrorCode.Stage, `icbs: the dataset has no split '${name}' (${what})`, {
      hint: `available splits: ${[...dataset.splits.keys()].join(', ')}`,
    });
  }
  return { dataset, split };
}

/** Run iCBS on `args.layers`; returns the final keep-masks and the run's record in `info.icbs`. */
export async function runIcbs(
  args: PruneArgs<IcbsParams>,
  solver: IcbsSolver,
): Promise<PruneResult> {
  const p = args.params;
  const started = performance.now();
  const { split: train } = requireSplit(args, p.trainSplit, 'trainSplit');
  const model = args.model;
  const engine = new GradientEngine(model);
  // Each step's per-sample gradients on the data-parallel worker threads, when the run has them.
  const parallel = await ParallelGradients.create(model);
  const buffers = new BlockBuffers();
  const names = args.layers.map((l) => l.info.name);
  const rng = args.rng;

  const needNorms = p.init.method === 'wanda' || p.selection === 'wanda';
  const needGrad = p.init.method === 'gradient';
  const stats: InitStatistics =
    needNorms || needGrad
      ? computeInitStatistics(
          engine,
          train,
          names,
          { inputNorms: needNorms, meanGradient: needGrad },
          p.initSamples,
          p.batchSize,
          args.calibration,
        )
      : { inputNorms: new Map(), meanGradients: new Map(), source: 'none needed' };

  const states: LayerState[] = args.layers.map((layer) => {
    const s = initLayer(layer, p, stats, rng.fork(`init:${layer.info.name}`));
    if (p.selection === 'magnitude') s.selectionScores = magnitudeScores(layer.weights);
    if (p.selection === 'wanda') {
      s.selectionScores = wandaScores(
        layer.weights,
        stats.inputNorms.get(layer.info.name) as Float32Array,
        layer.info.units,
      );
    }
    return s;
  });

  const records: StepRecord[] = [];
  const curve: CurvePoint[] = [];
  const totals: StepTimes = { gradients: 0, hessian: 0, qubo: 0, solve: 0, total: 0 };
  let cumulativeDeltaL = 0;
  let unchanged = 0;
  try {
    for (const s of states) model.writeWeight(s.name, s.weights);

    const evalSplit =
      p.evaluateEvery > 0
        ? requireSplit(args, p.evaluateOn.split, 'evaluateOn.split').split
        : undefined;
    const subset =
      evalSplit !== undefined ? validationSubset(evalSplit, p.evaluateOn.samples) : undefined;
    const evaluate = async (step: number): Promise<void> => {
      if (subset === undefined) return;
      const m = await evaluateNow(model, subset);
      curve.push({
        step,
        elapsedMs: performance.now() - started,
        ...m,
        predictedDeltaL: cumulativeDeltaL,
      });
      args.event('icbs.evaluate', { step, ...m, predictedDeltaL: cumulativeDeltaL });
      args.log.info(`icbs step ${step}: ${describeQuality(m)}`);
    };
    await evaluate(0);

    const counts = stepsPerLayer(
      states.map((s) => s.size),
      p.steps,
      p.minStepsPerLayer,
    );
    const total = p.steps * p.epochs;
    const cursor = new BatchCursor(train, { batchSize: Math.min(p.batchSize, train.count) });
    const progress = args.progress('icbs', total);
    const scheduleRng = rng.fork('schedule');
    const selectionRng = rng.fork('selection');
    let step = 0;
    try {
      for (let epoch = 0; epoch < p.epochs; epoch++) {
        const order = epochSchedule(counts, scheduleRng);
        for (const li of order) {
          args.signal.throwIfAborted();
          const state = states[li] as LayerState;
          const batch = gatherForModel(model, train, cursor.nextIndices());
          let rec: StepRecord;
          try {
            rec = await runStep(
              {
                model,
                engine,
                ...(parallel !== undefined ? { parallel } : {}),
                params: p,
                solver: solver.solver,
                solverParams: solver.params,
                signal: args.signal,
                log: args.log,
                buffers,
              },
              state,
              batch,
              { step: step + 1, epoch, solverSeed: deriveSeed(args.seed, `icbs-step-${step + 1}`) },
              selectionRng,
            );
          } finally {
            disposeBatch(batch);
          }
          step++;
          records.push(rec);
          cumulativeDeltaL += rec.predictedDeltaL;
          if (!rec.changed) unchanged++;
          for (const key of Object.keys(totals) as (keyof StepTimes)[])
            totals[key] += rec.timeMs[key];
          const event: Record<string, unknown> = { ...rec };
          delete event.solverStats;
          args.event('icbs.step', event);
          progress.tick(1, { dL: Number(cumulativeDeltaL.toExponential(3)), layer: rec.layer });
          if (p.evaluateEvery > 0 && (step % p.evaluateEvery === 0 || step === total))
            await evaluate(step);
        }
      }
    } finally {
      progress.done();
    }

    const masks = new Map(states.map((s) => [s.name, s.keepMask()]));
    const perLayer: Record<string, unknown> = {};
    for (const s of states) {
      perLayer[s.name] = {
        density: 1 - s.currentPrunedCount() / s.size,
        changedSinceInit: s.changedSinceInit(),
        frozen: s.size - s.freeCount(),
        tabuCapacity: s.tabu.capacity,
        steps: records.filter((r) => r.layer === s.name).length,
      };
    }
    const median = (v: number[]): number => {
      const a = [...v].sort((x, y) => x - y);
      return a.length === 0
        ? 0
        : ((a[(a.length - 1) >> 1] as number) + (a[a.length >> 1] as number)) / 2;
    };
    const info = {
      icbs: {
        steps: records.length,
        unchangedSteps: unchanged,
        predictedDeltaL: cumulativeDeltaL,
        weightsChangedSinceInit: states.reduce((a, s) => a + s.changedSinceInit(), 0),
        layers: perLayer,
        curve,
        statisticsSource: stats.source,
        timeMs: { ...totals, run: performance.now() - started },
        medianStepMs: median(records.map((r) => r.timeMs.total)),
        solver: { uses: solver.solver.name, ...solver.params },
      },
    };
    return { masks, info };
  } finally {
    for (const layer of args.layers) model.writeWeight(layer.info.name, layer.weights);
  }
}
