// What an architecture file (gpt2.ts, llama.ts) gives the shared PrunableModel
// (causal-lm-model.ts): the tensors and linear projections its config implies, and a forward
// written against a ForwardContext, through which every linear projection runs so that the
// model's hooks (recorded inputs, ε, replaced weights) reach every operator the same way.
import type * as tf from '@tensorflow/tfjs-core';
import type { CheckpointLayout, LinearSpec } from './checkpoint-tensors.js';
import type { HfCausalLmConfig } from './hf-config.js';

export type HfArchitectureName = 'gpt2' | 'llama';

export interface ForwardContext {
  readonly batch: number;
  readonly seq: number;
  /** The variable holding HF tensor `name` (in HF orientation). */
  param(name: string): tf.Tensor;
  /** x [batch·seq, fanIn] → x·W + b [batch·seq, units], with the operator's hooks applied. */
  linear(spec: LinearSpec, x: tf.Tensor2D): tf.Tensor2D;
  /** Seeded dropout in training passes, the identity otherwise (and for rate 0). */
  dropout<T extends tf.Tensor>(x: T, rate: number): T;
  /**
   * `run` (one residual sub-block: a block's attention or its MLP) in a tf.tidy of its own:
   * without it every temporary of every block lives until the whole forward ends (~850 MB for
   * GPT-2 small's evaluation). The result and the inputs it recorded are kept.
   */
  block(run: () => tf.Tensor2D): tf.Tensor2D;
  /**
   * Whether the rest of the forward can be skipped: only inputs were asked for
   * (ForwardHooks.inputsOnly) and every one has been recorded.
   */
  finished(): boolean;
}

export interface Architecture {
  /** 'gpt2' | 'llama' (Mistral runs as llama). */
  readonly name: HfArchitectureName;
  readonly config: HfCausalLmConfig;
  readonly layout: CheckpointLayout;
  /** The final hidden states [batch·seq, width] (after the last norm) for int32 ids [batch, seq]. */
  hidden(ctx: ForwardContext, ids: tf.Tensor2D): tf.Tensor2D;
  /** Logits [rows, vocab] of final hidden states [rows, width] (rows: any subset of positions). */
  head(ctx: ForwardContext, hidden: tf.Tensor2D): tf.Tensor2D;
}
