// The model-family contract: the one way every pruner, calibrate, iCBS, train, finetune, evaluate
// and export sees a model. A family (built in: `tfjs-layers`, src/models/tfjs-layers/) loads and
// saves its models and runs them; everything else goes through PrunableModel.
//
//   family.load(path) ──▶ PrunableModel ──operators / readWeight / writeWeight──▶ pruners
//                              │ forward(inputs, hooks) ──▶ calibrate, iCBS gradients, train, eval
//                              │ task (loss, batches, metrics)
//                              └ family.save(model, dir) ──▶ cache artifact, export
import type * as tf from '@tensorflow/tfjs-core';
import type { Rng } from './rng.js';
import type { JsonSchema } from './schema.js';
import type { Mask, PrunableLayerInfo } from './layers.js';
import type { Task } from './task.js';

/** What a forward pass can be asked to do besides computing the output. */
export interface ForwardHooks {
  /**
   * Record the input of these operators as the matrix X [rows, fanIn] their weight multiplies
   * (Dense: the input with leading dims flattened; Conv: im2col patches in (kh, kw, cin) order).
   * Returned in ForwardResult.inputs; they live in the caller's tidy scope.
   */
  readonly recordInputs?: ReadonlySet<string>;
  /**
   * Only the recorded inputs are wanted (statistics, no output, no gradients): a family may skip
   * whatever comes after the last recorded operator — later blocks, an LM head — and return any
   * tensor as the output. The recorded inputs are exactly those of a full forward.
   */
  readonly inputsOnly?: boolean;
  /**
   * With recordInputs: hand each X to this function as soon as it exists and keep only what it
   * returns (ForwardResult.reducedInputs: Σx², XᵀX, …) instead of X, so that a forward recording
   * every layer never holds every layer's X at once. A family may ignore it; then X is in
   * ForwardResult.inputs as usual.
   */
  readonly reduceInput?: (name: string, x: tf.Tensor) => tf.Tensor[];
  /**
   * Added to these operators' pre-activation output z, seen as [rows, units] with the rows of X
   * (shape from PrunableModel.perturbationShape). ∂L/∂ε is then ∂L/∂z: per-sample gradients by the
   * outer-product rule ∂L_s/∂W = Σ_rows-of-s Xᵀe.
   */
  readonly perturb?: ReadonlyMap<string, tf.Tensor>;
  /** Used instead of these operators' weights, as [fanIn, units] tensors (block Hessians). */
  readonly weights?: ReadonlyMap<string, tf.Tensor>;
  /** Training mode: dropout active with noise drawn from `rng`, batch statistics in batch norm. */
  readonly training?: boolean;
  readonly rng?: Rng;
  /**
   * Gradients w.r.t. the weight variables will be taken (tf.variableGrads): a family must then
   * avoid ops whose weight gradient the backend lacks. Training implies it.
   */
  readonly weightGradients?: boolean;
  /**
   * Gradients are only wanted w.r.t. inputs and ε (not the weights): lets a family use a faster
   * backward pass. Values are unchanged.
   */
  readonly inputGradientsOnly?: boolean;
  /** Classification: return logits even where the model ends in softmax. */
  readonly logits?: boolean;
}

export interface ForwardResult {
  readonly output: tf.Tensor;
  /** The recorded X matrices, by operator name. */
  readonly inputs: ReadonlyMap<string, tf.Tensor>;
  /** ForwardHooks.reduceInput's results, by operator name, when the family honoured it. */
  readonly reducedInputs?: ReadonlyMap<string, tf.Tensor[]>;
}

/** A loaded model as scalpel sees it. The caller that loaded it disposes it. */
export interface PrunableModel {
  /** The family that loaded it (its name is recorded in the model artifact). */
  readonly family: string;
  readonly task: Task;
  /** Prunable operators in model order; `name` is what `layers.include/exclude` match. */
  readonly operators: readonly PrunableLayerInfo[];
  /** Keep-masks by operator name (empty for a dense model). Stages replace entries as they prune. */
  readonly masks: Map<string, Mask>;
  /** A copy of the operator's weight as the row-major [fanIn, units] matrix. */
  readWeight(name: string): Float32Array;
  /**
   * Replace the operator's weight (same layout and length as readWeight) with a copy of `data`:
   * the caller may reuse the array afterwards (the prune stage recycles its kernel buffers).
   */
  writeWeight(name: string, data: Float32Array): void;
  /** The variable holding the operator's weight, in the family's own layout (in-graph masking). */
  weightVariable(name: string): tf.Variable;
  /**
   * Layout of weightVariable relative to [fanIn, units]: 'same' (any shape whose row-major order
   * is [fanIn, units]) or 'transposed' ([units, fanIn], e.g. nn.Linear). Masks are converted with it.
   */
  weightLayout(name: string): 'same' | 'transposed';
  /** Variables a training loop updates. */
  trainableVariables(): tf.Variable[];
  /** Run the model on a batch's inputs. No tf.tidy inside: call it within tidy / tf.grads. */
  forward(inputs: tf.Tensor, hooks?: ForwardHooks): ForwardResult;
  /** Shape [rows, units] of the ε that `perturb` takes for this operator and these inputs. */
  perturbationShape(name: string, inputs: tf.Tensor): [number, number];
  /**
   * Whether z = X·W holds for this operator with the recorded X (Dense, Conv): then the
   * outer-product rule and the input Gram matrix are exact. False for e.g. depthwise convolution.
   */
  isLinearInInput(name: string): boolean;
  /** Why exact second derivatives w.r.t. this operator are unavailable, or undefined when they are. */
  exactHessianUnsupported?(name: string): string | undefined;
  /** Every parameter value (prunable or not), for parameter counts. */
  parameterCounts(): { total: number; nonZero: number };
  /**
   * Absolute path of the model's Hugging Face `tokenizer.json`, for models that carry one (a
   * checkpoint directory, an LM trained on a text dataset); zero-shot evaluation encodes with it.
   */
  readonly tokenizerFile?: string;
  dispose(): void;
}

/** What a family returns for the files a user points `load-model` at (no tfjs involved). */
export interface ModelSourceInfo {
  /** Files whose contents define the model (hashed into the cache key), absolute paths. */
  readonly files: readonly string[];
}

export interface ModelFamily {
  /** Recorded in model artifacts, chosen by `load-model`'s `format`. */
  readonly name: string;
  /** Bump when a model loaded or saved by this family computes differently: part of node hashes. */
  readonly version: string;
  readonly description: string;
  /** JSON Schema of family-specific `load-model` options (may be an empty object schema). */
  readonly schema: JsonSchema;
  /** Whether `path` looks like a model of this family (checked without loading it). */
  recognizes(path: string): Promise<boolean>;
  /**
   * Check the user's files without tfjs (validate/plan): throws E_DATA/E_IO naming the file, layer
   * or tensor that cannot be loaded, else lists the files to fingerprint. `shownAs` is the path as
   * the user wrote it (recipe-relative), for messages.
   */
  inspect(path: string, shownAs?: string): Promise<ModelSourceInfo>;
  /** Load a model from a path as `load-model` got it, or from a directory this family saved. */
  load(path: string, options?: Record<string, unknown>): Promise<PrunableModel>;
  /**
   * Write the model into `dir` in the family's own format; returns the path (relative to `dir`)
   * that `load` takes back. Masks are written by scalpel beside it.
   */
  save(model: PrunableModel, dir: string): Promise<string>;
}
