// Calling a pruner directly (no stage), with the layers of the fixture model, for tests of the
// algorithms themselves.
import { builtinFamilyLookup } from '../../src/models/families.js';
import type { PrunableModel } from '../../src/plugin-api/model.js';
import { readModelArtifact } from '../../src/models/model-artifact.js';
import { readKernel } from '../helpers/models.js';
import { Rng } from '../../src/util/rng.js';
import type { CalibrationData } from '../../src/plugin-api/calibration.js';
import type { LayerToPrune, Pruner, PruneResult } from '../../src/plugin-api/pruner.js';
import type { Artifact, Logger } from '../../src/plugin-api/stage.js';

export const quietLog: Logger & { warnings: string[] } = {
  warnings: [],
  error() {},
  warn(m: string) {
    quietLog.warnings.push(m);
  },
  info() {},
  debug() {},
};

/** Copies of the kernels of `names` in the model artifact, at `density`. */
export async function layersOf(
  model: Artifact,
  names: readonly string[],
  density: number,
): Promise<LayerToPrune[]> {
  const loaded = await readModelArtifact(model, builtinFamilyLookup);
  try {
    return names.map((name) => {
      const info = loaded.operators.find((l) => l.name === name);
      if (info === undefined) throw new Error(`fixture has no layer ${name}`);
      return { info, weights: readKernel(loaded, name), density };
    });
  } finally {
    loaded.dispose();
  }
}

/** Run `pruner.prune` on `layers` of the real model in `modelArtifact`. */
export async function callPruner<P>(
  pruner: Pruner<P>,
  modelArtifact: Artifact,
  layers: readonly LayerToPrune[],
  params: P,
  calibration?: CalibrationData,
  seed = 1,
): Promise<PruneResult> {
  const model = await readModelArtifact(modelArtifact, builtinFamilyLookup);
  try {
    return await callWith(pruner, model, layers, params, calibration, seed);
  } finally {
    model.dispose();
  }
}

/**
 * A copy of `c` with its own arrays: a pruner may use the calibration arrays of its call as
 * scratch (plugin-api/calibration.ts), so each direct call gets fresh ones, as stages do.
 */
function ownCopy(c: CalibrationData | undefined): CalibrationData | undefined {
  if (c === undefined) return undefined;
  const layers = new Map(
    [...c.layers].map(([name, l]) => [
      name,
      {
        rows: l.rows,
        ...(l.inputNorms !== undefined ? { inputNorms: l.inputNorms.slice() } : {}),
        ...(l.gram !== undefined ? { gram: l.gram.slice() } : {}),
        ...(l.meanGradient !== undefined ? { meanGradient: l.meanGradient.slice() } : {}),
      },
    ]),
  );
  return { ...c, layers };
}

function callWith<P>(
  pruner: Pruner<P>,
  model: PrunableModel,
  layers: readonly LayerToPrune[],
  params: P,
  calibration: CalibrationData | undefined,
  seed: number,
): Promise<PruneResult> {
  return pruner.prune({
    model,
    // Each call gets its own kernel copies too (LayerToPrune.weights), as the stage does.
    layers: layers.map((l) => ({ ...l, weights: l.weights.slice() })),
    calibration: ownCopy(calibration),
    dataset: undefined,
    params,
    seed,
    rng: new Rng(seed),
    log: quietLog,
    progress: () => ({ tick() {}, update() {}, done() {} }),
    event() {},
    signal: new AbortController().signal,
  });
}
