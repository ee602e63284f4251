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

/**
 * How image samples are laid out, when the samples are images (3-D sample shapes): load-dataset's
 * `resize`, `pad`, `layout` and normalisation, recorded in the artifact's meta.json. Augmentation reads it.
 */
export interface ImageInfo {
  /** 'hwc': sampleShape [height, width, channels]; 'chw': [channels, height, width]. */
  readonly layout: 'hwc' | 'chw';
  readonly height: number;
  readonly width: number;
  readonly channels: number;
  /** The image size in the source, before resizing and padding. */
  readonly sourceHeight: number;
  readonly sourceWidth: number;
  /** load-dataset's `resize`: the size after it (before padding), and how it sampled. */
  readonly resize?: {
    readonly height: number;
    readonly width: number;
    readonly method: 'bilinear' | 'nearest';
  };
  /** Rows and columns of padding load-dataset added on each side. */
  readonly padding: {
    readonly top: number;
    readonly bottom: number;
    readonly left: number;
    readonly right: number;
  };
  /** Per channel: the feature value of the padding pixel (a zero pixel, normalised). */
  readonly fill: readonly number[];
  /** The normalisation, in words, e.g. '(x/255 - 0.5) / 0.5'. */
  readonly normalization: string;
}

export interface Dataset {
  /** 'fashion-mnist' | 'fashion-mnist-official' | 'mnist' | 'idx' | 'csv' | 'jsonl'. */
  readonly source: string;
  readonly numClasses: number;
  readonly classNames?: readonly string[];
  readonly splits: ReadonlyMap<string, DatasetSplit>;
  /** Present when the samples are images (not flattened). */
  readonly image?: ImageInfo;
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
