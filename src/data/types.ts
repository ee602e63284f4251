// The in-memory dataset every stage works with (produced by load-dataset, read back from its
// artifact with readDatasetArtifact in src/data/dataset-artifact.ts).
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
