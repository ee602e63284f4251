// The `with:` of a load-dataset stage after schema validation (schemas/stages/load-dataset.schema.json).
export type DatasetSourceName = 'fashion-mnist' | 'mnist' | 'idx' | 'csv' | 'jsonl';

/** An IDX pair: images (n × rows × cols …) and labels (n). */
export interface IdxFilePair {
  images: string;
  labels: string;
}

// A type alias (not an interface) so it fits StageType<Record<string, unknown>>.
export type LoadDatasetOptions = {
  source: DatasetSourceName;
  /** csv/jsonl: shorthand for `files: { train: path }`. */
  path?: string;
  /** Split name → file (csv, jsonl) or IDX pair (idx). */
  files?: Record<string, string | IdxFilePair>;
  /** Number of training samples to keep (first N after the optional shuffle); all when absent. */
  train?: number;
  /** Number of test samples to keep; all when absent. */
  test?: number;
  normalize?: { mean: number; std: number };
  scale?: number;
  flatten: boolean;
  shape?: number[];
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
