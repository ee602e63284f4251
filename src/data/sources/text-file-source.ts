// The part csv and jsonl sources share: one text file per split (split-files.ts), read one after
// the other with one label encoder (so class indices agree across splits), all splits checked to
// have one sample size, and the files' hashes as the fingerprint. Each format supplies only how to
// turn one file into a RawSplit.
import { sha256File } from '../../util/file-hash.js';
import { LabelEncoder } from '../labels.js';
import type { LoadDatasetOptions } from '../options.js';
import { checkSameSampleSize, rejectDirectory, textFileSplits } from './split-files.js';
import type { DatasetSource, RawSplit, SourceEnv } from './types.js';

/** Reads one split's file; `size` is its number of features per sample. */
export type LoadTextSplit = (
  name: string,
  file: string,
  opts: LoadDatasetOptions,
  encoder: LabelEncoder,
  env: SourceEnv,
) => Promise<{ split: RawSplit; size: number }>;

/** A DatasetSource reading `name` files; `featuresNoun` says what the size counts (in errors). */
export function textFileSource(
  name: 'csv' | 'jsonl',
  featuresNoun: string,
  loadSplit: LoadTextSplit,
): DatasetSource {
  return {
    name,

    async load(opts, env) {
      const files = textFileSplits(opts, (p) => env.resolvePath(p));
      const encoder = new LabelEncoder({
        classes: opts.classes,
        labelMap: opts.labelMap,
        numClasses: opts.numClasses,
      });
      const splits: RawSplit[] = [];
      const sizes: { file: string; size: number }[] = [];
      const progress = env.progress(`reading ${name}`, files.length);
      try {
        for (const [split, file] of files) {
          env.signal?.throwIfAborted();
          const r = await loadSplit(split, file, opts, encoder, env);
          splits.push(r.split);
          sizes.push({ file, size: r.size });
          progress.tick();
        }
      } finally {
        progress.done();
      }
      const size = checkSameSampleSize(sizes);
      return {
        source: name,
        pixels: opts.pixels,
        sampleSize: size,
        nativeShape: [size],
        origin: `${sizes[0]?.file ?? ''} (${size} ${featuresNoun})`,
        ...(opts.classes !== undefined ? { classNames: opts.classes } : {}),
        ...(encoder.declaredClasses !== undefined ? { numClasses: encoder.declaredClasses } : {}),
        splits,
      };
    },

    async fingerprint(opts, resolvePath) {
      const out: Record<string, string> = {};
      for (const [split, file] of textFileSplits(opts, resolvePath)) {
        await rejectDirectory(file, opts.source, [`.${opts.source}`]);
        out[split] = await sha256File(file);
      }
      return out;
    },
  };
}
