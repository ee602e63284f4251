// Shared by the eval tests: the tiny random GPT-2 (vocab 50, 12 positions) and Llama (32
// positions) of test/models/hf-forward, a char-level encode into that vocabulary, and float64
// log-softmax of logits the test got from model.forward.
import * as tf from '@tensorflow/tfjs-core';
import { HfCausalLmModel } from '../../src/models/hf/causal-lm-model.js';
import { parseHfConfig } from '../../src/models/hf/hf-config.js';
import type { PrunableModel } from '../../src/plugin-api/model.js';
import {
  gpt2Json,
  gpt2Weights,
  llamaJson,
  llamaWeights,
} from '../models/hf-forward/checkpoints.js';

export const vocab = 50;

export function tinyGpt2(seed = 11): HfCausalLmModel {
  return new HfCausalLmModel(parseHfConfig(gpt2Json), gpt2Weights(seed));
}

export function tinyLlama(seed = 12): HfCausalLmModel {
  return new HfCausalLmModel(parseHfConfig(llamaJson), llamaWeights(seed));
}

/** Each character's code point → an id below 50. */
export function charEncode(text: string): number[] {
  return [...text].map((c) => (c.codePointAt(0) as number) % vocab);
}

/** Logits [rows.length, seq, vocab] of one unpadded forward of equal-length rows. */
export function forwardLogits(
  model: PrunableModel,
  rows: readonly (readonly number[])[],
): Float32Array {
  const out = tf.tidy(
    () =>
      model.forward(
        tf.tensor2d(
          rows.map((r) => [...r]),
          undefined,
          'int32',
        ),
      ).output,
  );
  const values = Float32Array.from(out.dataSync());
  out.dispose();
  return values;
}

/** log softmax(logits[at .. at + vocab))[target] in float64. */
export function logSoftmaxAt(logits: Float32Array, at: number, target: number): number {
  let max = -Infinity;
  for (let v = 0; v < vocab; v++) max = Math.max(max, logits[at + v] as number);
  let sum = 0;
  for (let v = 0; v < vocab; v++) sum += Math.exp((logits[at + v] as number) - max);
  return (logits[at + target] as number) - max - Math.log(sum);
}

/** Whether `target` is the (first) arg-max at logits[at .. at + vocab). */
export function isArgmax(logits: Float32Array, at: number, target: number): boolean {
  let best = 0;
  for (let v = 1; v < vocab; v++)
    if ((logits[at + v] as number) > (logits[at + best] as number)) best = v;
  return best === target;
}

/** The ScalpelError-like object `f` throws (fails the test when it does not throw). */
export async function thrown(
  f: () => unknown,
): Promise<{ code: string; message: string; location?: { line?: number } }> {
  try {
    await f();
  } catch (e) {
    return e as { code: string; message: string; location?: { line?: number } };
  }
  throw new Error('expected an error');
}
