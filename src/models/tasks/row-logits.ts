// The logits of a causal LM's batch, a chunk of positions at a time. A model that splits its
// forward into the final hidden states and the LM head (HiddenStateLm, e.g. hf-causal-lm) runs
// its body once per batch and the head per chunk, so the [batch, seq, vocab] logits never exist
// whole — for GPT-2's vocabulary of 50257 they are 25 MB per sequence of 128, the largest tensor
// of an evaluation, and wasm's heap never shrinks after a peak. Other models are read from
// forward()'s full logits. Both give the same values (the same products, row by row).
import * as tf from '@tensorflow/tfjs-core';
import type { PrunableModel } from '../../plugin-api/model.js';

/** The optional capability: the forward without, and then with, its LM head. */
export interface HiddenStateLm {
  readonly vocabSize: number;
  /** Final hidden states [batch·seq, width] of int32 token ids [batch, seq] (no hooks). */
  hiddenStates(ids: tf.Tensor): tf.Tensor2D;
  /** Logits [rows, vocab] of rows of hiddenStates. */
  lmHead(hidden: tf.Tensor2D): tf.Tensor2D;
}

/** The model as a HiddenStateLm when it has the capability. */
export function asHiddenStateLm(model: PrunableModel): HiddenStateLm | undefined {
  const m = model as PrunableModel & Partial<HiddenStateLm>;
  return typeof m.hiddenStates === 'function' && typeof m.lmHead === 'function'
    ? (m as PrunableModel & HiddenStateLm)
    : undefined;
}

/** Logits [rows.size, vocab] of flat positions `rows` (b·seq + t) of the batch. */
export type RowLogits = (rows: tf.Tensor1D) => tf.Tensor2D;

/**
 * Run `model` on token ids [batch, seq] and hand `use` the batch's RowLogits and vocabulary size;
 * call RowLogits inside a tidy. Everything the batch made is freed when `use` returns.
 */
export function withRowLogits<T>(
  model: PrunableModel,
  ids: tf.Tensor2D,
  use: (rowLogits: RowLogits, vocab: number) => T,
): T {
  const split = asHiddenStateLm(model);
  if (split !== undefined) {
    const hidden = tf.tidy(() => split.hiddenStates(ids));
    try {
      return use((rows) => split.lmHead(tf.gather(hidden, rows)), split.vocabSize);
    } finally {
      hidden.dispose();
    }
  }
  const logits = tf.tidy(() => model.forward(ids).output);
  try {
    const [batch, seq, vocab] = logits.shape as [number, number, number];
    return use((rows) => tf.gather(tf.reshape(logits, [batch * seq, vocab]), rows), vocab);
  } finally {
    logits.dispose();
  }
}
