// The in-memory dataset every stage works with (produced by load-dataset, read back from its
// artifact with readDatasetArtifact in src/data/dataset-artifact.ts). Part of the plugin API.
export interface DatasetSplit {
  /** 'train' | 'test' | a custom name. */
  readonly name: string;
  readonly count: number;
  /** Shape of one sample, e.g. [784] (flattened) or [28, 28, 1]. */
  readonly sampleShape: readonly number[];
  /** count × prod(sampleShape) features, already normalised as the recipe asked. */
  readonly x: Float32Array;
  /** Class index per sample (0 … numClasses−1). */
  readonly y: Int32Array;
  /** Index of each sample in its source, recorded so runs can say exactly which samples they used. */
  readonly ids: Int32Array;
}

export interface Dataset {
  /** 'fashion-mnist' | 'mnist' | 'idx' | 'csv' | 'jsonl'. */
  readonly source: string;
  readonly numClasses: number;
  readonly classNames?: readonly string[];
  readonly splits: ReadonlyMap<string, DatasetSplit>;
}

/** Samples as plain arrays: x is count × prod(sampleShape), row-major. */
export interface SampleBlock {
  readonly count: number;
  readonly x: Float32Array;
  readonly y: Int32Array;
  readonly ids: Int32Array;
}

/** A block that knows the shape of one sample (a DatasetSplit is one, and so is any part of it). */
export interface Samples extends SampleBlock {
  /** Shape of one sample, e.g. [784]. */
  readonly sampleShape: readonly number[];
}
