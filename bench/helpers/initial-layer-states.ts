// The step benches' starting point: every operator of the model at its initial iCBS mask (no
// calibration statistics, so magnitude-style inits), written into the model as a run would.
import { initLayer } from '../../src/icbs/init-mask.js';
import type { LayerState } from '../../src/icbs/layer-state.js';
import type { IcbsParams } from '../../src/icbs/params.js';
import type { PrunableModel } from '../../src/plugin-api/model.js';
import type { Rng } from '../../src/util/rng.js';

export function initialLayerStates(
  model: PrunableModel,
  params: IcbsParams,
  density: number,
  rng: Rng,
): LayerState[] {
  return model.operators.map((info) => {
    const s = initLayer(
      { info, weights: model.readWeight(info.name), density },
      params,
      { inputNorms: new Map(), meanGradients: new Map(), source: '' },
      rng.fork(info.name),
    );
    model.writeWeight(s.name, s.weights);
    return s;
  });
}
