// What every dataset source produces before the common steps (shuffle, subset, normalisation,
// shape) turn it into a Dataset: validated raw values per split, malformed records already
// skipped (and counted in the MalformedRecords the caller passed in).
import type { Logger, Progress } from '../../plugin-api/stage.js';
import type { MalformedRecords } from '../malformed.js';
import type { LoadDatasetOptions } from '../options.js';

export interface RawSplit {
  readonly name: string;
  readonly count: number;
  /** count × sampleSize values: 8-bit pixels when the dataset's `pixels` is true, else raw features. */
  readonly values: Uint8Array | Float64Array;
  readonly labels: Int32Array;
  /** Sample ids (see docs/datasets.md for each source's scheme). */
  readonly ids: Int32Array;
}

export interface RawDataset {
  readonly source: string;
  /** Values are 8-bit pixels (0–255), normalised as pixels. */
  readonly pixels: boolean;
  readonly sampleSize: number;
  /** The natural sample shape, e.g. [28, 28, 1] for images or [n] for feature vectors. */
  readonly nativeShape: readonly number[];
  /** Where the samples came from (shown in errors about the shape). */
  readonly origin: string;
  readonly splits: readonly RawSplit[];
  readonly classNames?: readonly string[];
  /** Known number of classes (else 1 + the largest label). */
  readonly numClasses?: number;
}

export interface SourceEnv {
  resolvePath(p: string): string;
  readonly log: Logger;
  progress(label: string, total: number): Progress;
  readonly malformed: MalformedRecords;
  readonly signal?: AbortSignal;
}

export interface DatasetSource {
  readonly name: LoadDatasetOptions['source'];
  load(opts: LoadDatasetOptions, env: SourceEnv): Promise<RawDataset>;
  /** Hash material: file hashes, or package name + version. */
  fingerprint(opts: LoadDatasetOptions, resolvePath: (p: string) => string): Promise<unknown>;
}
