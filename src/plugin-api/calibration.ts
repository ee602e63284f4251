// What the calibrate stage computes per prunable layer (src/stages/calibrate.ts) and pruners read.
export interface CalibrationNeeds {
  /** ‖X_i‖₂ per input feature (Wanda). */
  inputNorms?: boolean;
  /** XᵀX over calibration inputs, fanIn × fanIn (SparseGPT). Expensive for wide layers. */
  gram?: boolean;
  /** Mean gradient of the loss w.r.t. the kernel over the calibration samples (gradient pruner). */
  meanGradient?: boolean;
}

export interface LayerCalibration {
  /** Length fanIn. sqrt(Σ over samples (and positions) of x_i²). */
  inputNorms?: Float32Array;
  /** fanIn × fanIn row-major, Σ x xᵀ (not averaged: divide by `rows`). */
  gram?: Float64Array;
  /** Number of input rows that went into the statistics (samples × positions). */
  rows: number;
  /** Same layout as the kernel ([fanIn, units] row-major). */
  meanGradient?: Float32Array;
}

/**
 * What a pruner gets in `args.calibration`. Its arrays are that `prune` call's own — read from the
 * artifact for this stage, or computed for this block when pruning sequentially — valid for the
 * call only, and a pruner may use them as scratch (SparseGPT factors each Gram matrix in place).
 */
export interface CalibrationData {
  /** Number of calibration samples. */
  readonly samples: number;
  /** Indices of the samples in the dataset split they came from (recorded for reproducibility). */
  readonly sampleIds: readonly number[];
  readonly split: string;
  readonly layers: ReadonlyMap<string, LayerCalibration>;
}
