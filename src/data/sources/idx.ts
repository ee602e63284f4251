// Any IDX images/labels pair per split (`files: { train: { images, labels }, … }`), e.g. a local
// copy of MNIST, Fashion-MNIST or EMNIST in their original format (gzipped or not). Images of
// uint8 are pixels; other IDX types are real-valued features. Ids are record indices in the files.
import { ErrorCode, ScalpelError } from '../../errors.js';
import { sha256File } from '../../util/file-hash.js';
import { LabelEncoder } from '../labels.js';
import type { LoadDatasetOptions } from '../options.js';
import { idxNativeShape, loadIdxPairs } from './idx-pair.js';
import { idxFileSplits, rejectDirectory } from './split-files.js';
import type { DatasetSource, RawDataset, SourceEnv } from './types.js';

export const idxSource: DatasetSource = {
  name: 'idx',

  async load(opts: LoadDatasetOptions, env: SourceEnv): Promise<RawDataset> {
    const pairs = idxFileSplits(opts, (p) => env.resolvePath(p));
    const encoder = new LabelEncoder({
      classes: opts.classes,
      labelMap: opts.labelMap,
      numClasses: opts.numClasses,
    });
    const loaded = await loadIdxPairs(pairs, encoder, env, 'reading idx files');
    const first = loaded[0];
    if (first === undefined)
      throw new ScalpelError(ErrorCode.Internal, 'idx source without splits');
    for (const l of loaded) {
      if (l.sampleDims.join('×') !== first.sampleDims.join('×') || l.pixels !== first.pixels) {
        throw new ScalpelError(
          ErrorCode.Data,
          `the splits hold different samples: ${first.images} has ${first.sampleDims.join('×')} samples, ${l.images} ${l.sampleDims.join('×')}`,
          {
            location: { file: l.images },
            hint: 'all splits of a dataset need samples of the same shape and type',
          },
        );
      }
    }
    return {
      source: 'idx',
      pixels: first.pixels,
      sampleSize: first.sampleDims.reduce((a, b) => a * b, 1),
      nativeShape: idxNativeShape(first.sampleDims),
      origin: `${first.images} (${first.sampleDims.join('×')} samples)`,
      ...(opts.classes !== undefined ? { classNames: opts.classes } : {}),
      ...(encoder.declaredClasses !== undefined ? { numClasses: encoder.declaredClasses } : {}),
      splits: loaded.map((l) => l.split),
    };
  },

  async fingerprint(opts, resolvePath): Promise<unknown> {
    const out: Record<string, { images: string; labels: string }> = {};
    for (const [name, pair] of idxFileSplits(opts, resolvePath)) {
      for (const f of [pair.images, pair.labels])
        await rejectDirectory(f, 'idx', ['-ubyte', '-ubyte.gz']);
      out[name] = { images: await sha256File(pair.images), labels: await sha256File(pair.labels) };
    }
    return out;
  },
};
