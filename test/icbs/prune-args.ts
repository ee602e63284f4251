// PruneArgs for calling the iCBS pruner directly in tests (the prune stage builds the same).
import type * as tfl from '@tensorflow/tfjs-layers';
import type { Dataset } from '../../src/data/types.js';
import type { LayerToPrune, PruneArgs } from '../../src/plugin-api/pruner.js';
import type { PrunableModel } from '../../src/plugin-api/model.js';
import { asPrunable } from '../helpers/models.js';
import { Rng } from '../../src/util/rng.js';
import type { IcbsParams } from '../../src/icbs/params.js';
import { withDefaults } from '../../src/icbs/params.js';

export interface RecordedEvent {
  type: string;
  data: Record<string, unknown>;
}

export function layersToPrune(model: PrunableModel, density: number): LayerToPrune[] {
  return model.operators.map((info) => ({
    info,
    weights: model.readWeight(info.name),
    density,
  }));
}

/** A logger that drops everything. */
export const quiet = { error: () => {}, warn: () => {}, info: () => {}, debug: () => {} };
/** No init statistics: the step tests start from masks they set themselves. */
export const noStats = { inputNorms: new Map(), meanGradients: new Map(), source: 'none' };

export function pruneArgs(
  layersModel: tfl.LayersModel | PrunableModel,
  dataset: Dataset,
  params: Partial<IcbsParams>,
  opts: { density?: number; seed?: number; events?: RecordedEvent[] } = {},
): PruneArgs<IcbsParams> {
  const seed = opts.seed ?? 5;
  const events = opts.events;
  const model = 'task' in layersModel ? layersModel : asPrunable(layersModel);
  return {
    model,
    layers: layersToPrune(model, opts.density ?? 0.3),
    calibration: undefined,
    dataset,
    params: withDefaults(params),
    seed,
    rng: new Rng(seed).fork('pruner:icbs'),
    log: quiet,
    progress: () => ({ tick: () => {}, update: () => {}, done: () => {} }),
    event: (type, data) => {
      events?.push({ type, data });
    },
    signal: new AbortController().signal,
  };
}
