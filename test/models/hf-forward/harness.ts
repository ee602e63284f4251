// Small helpers the hf-forward tests share: running a model to plain arrays, and comparing
// arrays with a tolerance relative to the reference's magnitude.
import { strict as assert } from 'node:assert';
import * as tf from '@tensorflow/tfjs-core';
import type { ForwardHooks, PrunableModel } from '../../../src/plugin-api/model.js';

/** Logits [batch, seq, vocab] of the model's forward, as a plain array. */
export function runLogits(
  model: PrunableModel,
  ids: number[][],
  hooks?: ForwardHooks,
): Float32Array {
  const out = tf.tidy(() => model.forward(tf.tensor2d(ids, undefined, 'int32'), hooks).output);
  assert.deepEqual(out.shape, [ids.length, ids[0]?.length, 50]);
  const values = out.dataSync() as Float32Array;
  out.dispose();
  return values;
}

/** max |actual − expected| ≤ rel·max(1, max |expected|). */
export function assertClose(
  actual: ArrayLike<number>,
  expected: ArrayLike<number>,
  rel: number,
  what: string,
): void {
  assert.equal(actual.length, expected.length, `${what}: length`);
  let scale = 1;
  for (let i = 0; i < expected.length; i++)
    scale = Math.max(scale, Math.abs(expected[i] as number));
  let worst = 0;
  let at = 0;
  for (let i = 0; i < expected.length; i++) {
    const e = Math.abs((actual[i] as number) - (expected[i] as number));
    if (!(e <= worst)) {
      worst = e;
      at = i;
    }
  }
  assert.ok(
    worst <= rel * scale,
    `${what}: |Δ| = ${worst} at ${at} (${actual[at]} vs ${expected[at]}), allowed ${rel * scale}`,
  );
}

/** The largest |a − b| (to show that two forwards differ). */
export function maxDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs((a[i] as number) - (b[i] as number)));
  return m;
}
