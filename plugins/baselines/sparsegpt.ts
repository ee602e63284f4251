// sparsegpt: layer-wise pruning with weight reconstruction (Frantar & Alistarh 2023); the
// algorithm is in sparsegpt-layer.ts. Each layer is solved on its own calibration Gram matrix,
// gathered from the dense model (the "one-shot, all layers from the original inputs" variant).
import { definePruner, readSchema } from '../../src/index.js';
import type { NMPattern } from '../../src/index.js';
import { layerCalibration } from './calibration-input.js';
import { Float64Workspace } from './float64-workspace.js';
import { sparsegptLayer } from './sparsegpt-layer.js';

// A type alias, not an interface: it must be assignable to Record<string, unknown>.
export type SparseGptParams = {
  percdamp: number;
  blocksize: number;
  pattern?: NMPattern;
};

export const sparsegptPruner = definePruner<SparseGptParams>({
  name: 'sparsegpt',
  version: '1',
  description:
    'SparseGPT: OBS-style pruning with weight reconstruction from the calibration Gram matrix (N:M)',
  schema: readSchema('pruners/sparsegpt.schema.json'),
  calibration: { gram: true },
  reconstructsWeights: true,
  layerwise: true,
  prune(args) {
    // Synchronous work, but a failure still comes back as a rejection, as from an async pruner.
    return new Promise((resolve) => {
      const { layers, params, calibration, log, signal } = args;
      const masks = new Map<string, Uint8Array>();
      const weights = new Map<string, Float32Array>();
      const errors: Record<string, number> = {};
      const damping: Record<string, number> = {};
      const bar = args.progress('sparsegpt layers', layers.length);
      const workspace = new Float64Workspace();
      for (const l of layers) {
        signal.throwIfAborted();
        const gram = layerCalibration('sparsegpt', calibration, l.info.name, 'gram');
        const rows = calibration?.layers.get(l.info.name)?.rows ?? 0;
        const r = sparsegptLayer({
          name: l.info.name,
          weights: l.weights,
          fanIn: l.info.fanIn,
          units: l.info.units,
          gram,
          // The calibration arrays are this call's own (plugin-api/calibration.ts).
          consumeGram: true,
          // And `l.weights` is the pruner's own copy of the kernel: the reconstruction goes there.
          into: l.weights,
          workspace,
          rows,
          // A model pruned before (a round of repeat:): what it pruned stays pruned.
          ...(l.incoming !== undefined ? { incoming: l.incoming } : {}),
          density: l.density,
          percdamp: params.percdamp,
          blocksize: params.blocksize,
          log,
          ...(params.pattern !== undefined ? { pattern: params.pattern } : {}),
        });
        masks.set(l.info.name, r.mask);
        weights.set(l.info.name, r.weights);
        errors[l.info.name] = r.errorEstimate;
        damping[l.info.name] = r.percdamp;
        if (r.deadInputs > 0)
          log.info(
            `sparsegpt: layer '${l.info.name}' has ${r.deadInputs} dead input(s) (never non-zero in calibration); their weights are zeroed`,
          );
        bar.tick(1, { layer: l.info.name });
      }
      bar.done();
      resolve({ masks, weights, info: { errorEstimate: errors, percdamp: damping } });
    });
  },
});
