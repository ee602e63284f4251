// The step benches' loop: `count` iCBS steps on `model` at density 0.1 with the authors' settings
// (icbsDefaults, sa), batches from `train` in schedule order, seed 43 — as run-icbs would take
// them, without the stage around it. Shared by bench/icbs-step.ts and bench/data-parallel.ts.
import { BatchCursor, disposeBatch } from '../../src/data/batches.js';
import { gatherForModel } from '../../src/icbs/batch-input.js';
import { BlockBuffers } from '../../src/icbs/block-buffers.js';
import type { LayerState } from '../../src/icbs/layer-state.js';
import { icbsDefaults } from '../../src/icbs/params.js';
import { epochSchedule, stepsPerLayer } from '../../src/icbs/schedule.js';
import { runStep, type StepRecord } from '../../src/icbs/step.js';
import { GradientEngine } from '../../src/models/per-sample-gradients.js';
import type { ParallelGradients } from '../../src/parallel/gradients.js';
import type { DatasetSplit } from '../../src/plugin-api/dataset.js';
import type { PrunableModel } from '../../src/plugin-api/model.js';
import { sa } from '../../src/solvers/index.js';
import { Rng, deriveSeed } from '../../src/util/rng.js';
import { initialLayerStates } from './initial-layer-states.js';

const quiet = { error: () => {}, warn: () => {}, info: () => {}, debug: () => {} };

export interface IcbsStepsOptions {
  readonly model: PrunableModel;
  readonly train: DatasetSplit;
  readonly count: number;
  /** Data-parallel gradients (threads > 1); the calling thread's GradientEngine otherwise. */
  readonly parallel?: ParallelGradients;
  /** Called after each step (t from 0). */
  readonly onStep?: (t: number, rec: StepRecord) => void;
}

/** Runs the steps; returns the layers' states (their masks) and every step's record. */
export async function runIcbsSteps(
  o: IcbsStepsOptions,
): Promise<{ states: LayerState[]; records: StepRecord[] }> {
  const params = icbsDefaults;
  const rng = new Rng(43);
  const states = initialLayerStates(o.model, params, 0.1, rng);
  const env = {
    model: o.model,
    engine: new GradientEngine(o.model),
    ...(o.parallel !== undefined ? { parallel: o.parallel } : {}),
    params,
    solver: sa,
    solverParams: Object.fromEntries(Object.entries(params.solver).filter(([k]) => k !== 'uses')),
    signal: new AbortController().signal,
    log: quiet,
    buffers: new BlockBuffers(),
  };
  const cursor = new BatchCursor(o.train, { batchSize: params.batchSize });
  const order = epochSchedule(
    stepsPerLayer(
      states.map((s) => s.size),
      params.steps,
      1,
    ),
    rng.fork('schedule'),
  );
  const selRng = rng.fork('selection');
  const records: StepRecord[] = [];
  for (let t = 0; t < o.count; t++) {
    const state = states[order[t % order.length] as number];
    if (state === undefined) throw new Error('schedule');
    const batch = gatherForModel(o.model, o.train, cursor.nextIndices());
    const rec = await runStep(
      env,
      state,
      batch,
      { step: t + 1, epoch: 0, solverSeed: deriveSeed(43, `step-${t}`) },
      selRng,
    );
    disposeBatch(batch);
    records.push(rec);
    o.onStep?.(t, rec);
  }
  return { states, records };
}
