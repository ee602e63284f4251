// The pruner contract: what `uses: prune` with `method: <name>` runs. The baselines in plugins/
// use only this (and what src/index.ts exports), exactly as a third-party plugin would.
import type { Rng } from './rng.js';
import type { JsonSchema } from './schema.js';
import type { Logger, Progress } from './stage.js';
import type { CalibrationData, CalibrationNeeds } from './calibration.js';
import type { Mask, PrunableLayerInfo } from './layers.js';
import type { Dataset } from './dataset.js';
import type { PrunableModel } from './model.js';
import type { RegistryView } from './registry-view.js';

/** One selected layer with a copy of its original (dense) kernel, [fanIn, units] row-major. */
export interface LayerToPrune {
  readonly info: PrunableLayerInfo;
  readonly weights: Float32Array;
  /** Target fraction of weights to keep in this layer (recipe density, or a per-layer override). */
  readonly density: number;
  /**
   * The layer's mask when the model was pruned before (a round of `repeat:`; 1 = kept): the
   * weights it prunes must stay pruned. A pruner should never select them (masksFromScores does
   * not); the stage repairs a mask that does, at the cost of the pruner's own choice.
   */
  readonly incoming?: Mask;
}

export interface PruneArgs<P = Record<string, unknown>> {
  /**
   * The model being pruned, through the family contract (operators, weights, forward, task). Do
   * not leave its weights changed: return masks (and reconstructed weights) instead.
   */
  readonly model: PrunableModel;
  readonly layers: readonly LayerToPrune[];
  /** Present when the pruner declared `calibration` needs (the prune stage then requires an input of kind 'calibration'). */
  readonly calibration: CalibrationData | undefined;
  /** Present when the pruner sets `requiresDataset` (the prune stage then requires an input of kind 'dataset'). */
  readonly dataset: Dataset | undefined;
  /** The pruner's own parameters (schema-validated, defaults filled; `method` removed). */
  readonly params: P;
  readonly seed: number;
  readonly rng: Rng;
  readonly log: Logger;
  progress(label: string, total: number): Progress;
  event(type: string, data: Record<string, unknown>): void;
  readonly signal: AbortSignal;
  /**
   * Registered stage types, pruners and solvers (added for iCBS, which looks up its QUBO solver
   * by name). Optional: callers that have no registry leave it out and get built-ins only.
   */
  readonly registry?: RegistryView;
}

export interface PruneResult {
  /** A keep-mask for every layer in `args.layers`. */
  masks: Map<string, Mask>;
  /** Reconstructed kernels (only for pruners with `reconstructsWeights`); zeros where masked. */
  weights?: Map<string, Float32Array>;
  /** Anything worth recording in the stage manifest/metrics (per-layer errors, curves…). */
  info?: Record<string, unknown>;
}

export interface Pruner<P = Record<string, unknown>> {
  readonly name: string;
  readonly version: string;
  readonly description: string;
  /**
   * JSON Schema of the pruner's own parameters (an object schema; `properties` plus
   * `additionalProperties: false`). The prune stage adds the common ones (`method`, `density`,
   * `layers`) itself: do not declare them.
   */
  readonly schema: JsonSchema;
  /**
   * Optional: the schema built from the registry, for pruners whose parameters name other
   * registered entries (iCBS: `solver.uses` and that solver's parameters). When present, the
   * prune stage validates recipes against it; `schema` should still describe the common shape.
   */
  schemaFor?(registry: RegistryView): JsonSchema;
  /**
   * Optional: extra material for the node hash besides the params and this pruner's name,
   * version and plugin: the identity of other registered entries the pruner runs (iCBS: its QUBO
   * solver's name, version and plugin), so a changed solver reruns the node. `params` are the
   * stage's, schema-validated with defaults filled.
   */
  fingerprint?(params: Record<string, unknown>, registry: RegistryView): unknown;
  readonly calibration?: CalibrationNeeds;
  /** True for pruners (iCBS) that read training batches themselves rather than calibration statistics. */
  readonly requiresDataset?: boolean;
  /** True for pruners (SparseGPT) that return updated weights, not only masks. */
  readonly reconstructsWeights?: boolean;
  /**
   * True when each layer's mask (and weights) depend only on that layer's weights, density and
   * calibration statistics (Wanda, SparseGPT). With a sequential calibration the prune stage then
   * calls `prune` once per block, with `layers` and `calibration` of that block only, the
   * statistics recorded from the model as pruned so far. Pruners that rank across layers leave it
   * unset and get one call with the dense model's statistics.
   */
  readonly layerwise?: boolean;
  prune(args: PruneArgs<P>): Promise<PruneResult>;
}
