// The `with:` of a load-dataset stage after schema validation (schemas/stages/load-dataset.schema.json).
export type DatasetSourceName =
  'fashion-mnist' | 'fashion-mnist-official' | 'mnist' | 'idx' | 'csv' | 'jsonl';

/** Image padding: to a size and/or up to a multiple (e.g. of a ViT patch size), centred. */
export interface PadOptions {
  /** Target [height, width] (one number: square). */
  to?: number | [number, number];
  /** Pad height and width up to the next multiple of this. */
  multipleOf?: number;
  /** Raw value of the padding (a pixel 0–255 for pixel data); default 0. */
  value?: number;
}

/** Image resizing (before padding): to a size, bilinear (default) or nearest, half-pixel centres. */
export interface ResizeOptions {
  /** Target [height, width] (one number: square). */
  to: number | [number, number];
  method?: 'bilinear' | 'nearest';
}

/** An IDX pair: images (n × rows × cols …) and labels (n). */
export interface IdxFilePair {
  images: string;
  labels: string;
}

// A type alias (not an interface) so it fits StageType<Record<string, unknown>>.
export type LoadDatasetOptions = {
  source: DatasetSourceName;
  /** fashion-mnist-official: directory of the four IDX files (default the Debian package's). */
  dir?: string;
  /** csv/jsonl: shorthand for `files: { train: path }`. */
  path?: string;
  /** Split name → file (csv, jsonl) or IDX pair (idx). */
  files?: Record<string, string | IdxFilePair>;
  /** Number of training samples to keep (first N after the optional shuffle); all when absent. */
  train?: number;
  /** Number of test samples to keep; all when absent. */
  test?: number;
  /** One mean/std for all values, or one per channel (image samples). */
  normalize?: { mean: number | number[]; std: number | number[] };
  scale?: number;
  flatten: boolean;
  shape?: number[];
  /** Resize image samples (before padding and normalisation). */
  resize?: ResizeOptions;
  /** Pad image samples (before normalisation, so padding is a zero pixel). */
  pad?: PadOptions;
  /** Channel layout of image samples: [h, w, c] (default) or [c, h, w]. */
  layout?: 'hwc' | 'chw';
  shuffle: boolean;
  strict: boolean;
  /** Class names: labels are indices into it, or (string labels) names in it. */
  classes?: string[];
  /** String label → class index. */
  labelMap?: Record<string, number>;
  numClasses?: number;
  /** csv/jsonl: features are 8-bit pixels (integers 0–255). */
  pixels: boolean;
  /** csv: first line is a header. */
  header: boolean;
  delimiter: string;
  /** csv: label column, by header name or 0-based index (default 'label' with a header, else 0). */
  labelColumn?: string | number;
  /** jsonl: field holding the feature array. */
  featuresField: string;
  /** jsonl: field holding the label. */
  labelField: string;
};

/** Defaults the schema fills in, for callers that build options in code. */
export const loadDatasetDefaults = {
  flatten: true,
  shuffle: false,
  strict: false,
  pixels: true,
  header: true,
  delimiter: ',',
  featuresField: 'features',
  labelField: 'label',
} as const satisfies Partial<LoadDatasetOptions>;
