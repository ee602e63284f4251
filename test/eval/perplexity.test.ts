// Perplexity and bits per byte against a float64 log-softmax of the logits of one unbatched
// model.forward, summed by hand in the test; agreement with CausalLmTask.evaluate.
import { strict as assert } from 'node:assert';
import * as tf from '@tensorflow/tfjs-core';
import { packTokenSequences } from '../../src/eval/pack-tokens.js';
import { evaluatePerplexity } from '../../src/eval/perplexity.js';
import { initBackend } from '../../src/models/backend.js';
import { randomIds } from '../models/hf-forward/checkpoints.js';
import { forwardLogits, logSoftmaxAt, thrown, tinyGpt2, tinyLlama, vocab } from './fixtures.js';

/** Σ −log p(row[t+1] | row[≤t]) over all rows, float64, from one forward of all rows. */
function referenceNll(logits: Float32Array, rows: number[][]): number {
  const seq = (rows[0] as number[]).length;
  let total = 0;
  rows.forEach((row, b) => {
    for (let t = 0; t + 1 < seq; t++)
      total -= logSoftmaxAt(logits, (b * seq + t) * vocab, row[t + 1] as number);
  });
  return total;
}

describe('eval: perplexity and bits per byte', () => {
  before(async () => {
    await initBackend('wasm');
  });

  for (const [name, make] of [
    ['gpt2', tinyGpt2],
    ['llama', tinyLlama],
  ] as const) {
    it(`${name}: total and mean NLL, perplexity and bits per byte match a float64 sum over the forward's log-softmax`, () => {
      const model = make();
      const rows = randomIds(21, 5, 9);
      const packed = packTokenSequences(rows.flat(), 9);
      assert.equal(packed.samples.count, 5);
      const before = tf.memory().numTensors;
      // batchSize 2: two full batches and a last batch of one.
      const r = evaluatePerplexity(model, packed.samples, { batchSize: 2, textBytes: 37 });
      assert.equal(tf.memory().numTensors, before, 'tensors leaked');
      const total = referenceNll(forwardLogits(model, rows), rows);
      assert.equal(r.sequences, 5);
      assert.equal(r.seqLength, 9);
      assert.equal(r.tokens, 5 * 8);
      assert.equal(r.inputTokens, 5 * 9);
      assert.ok(
        Math.abs(r.totalNll - total) < 1e-4 * Math.max(1, total),
        `total NLL ${r.totalNll} vs ${total}`,
      );
      assert.ok(Math.abs(r.meanNll - total / 40) < 1e-5, `mean NLL ${r.meanNll} vs ${total / 40}`);
      assert.ok(Math.abs(r.perplexity / Math.exp(total / 40) - 1) < 1e-5, 'perplexity');
      const bpb = total / Math.log(2) / 37;
      assert.ok(
        Math.abs((r.bitsPerByte as number) - bpb) < 1e-5 * bpb,
        `bits per byte ${r.bitsPerByte} vs ${bpb}`,
      );
      assert.ok(r.tokensPerSecond > 0 && r.seconds >= 0);
      model.dispose();
    });
  }

  it('agrees with CausalLmTask.evaluate on the same sequences, whatever the batch size', () => {
    const model = tinyGpt2(3);
    const { samples } = packTokenSequences(randomIds(22, 7, 6).flat(), 6);
    const task = model.task.evaluate(model, samples, { batchSize: 3 });
    for (const batchSize of [1, 4, 7]) {
      const r = evaluatePerplexity(model, samples, { batchSize });
      assert.equal(r.tokens, task.values.tokens);
      assert.ok(
        Math.abs(r.meanNll - task.loss) < 1e-5,
        `batch ${batchSize}: ${r.meanNll} vs ${task.loss}`,
      );
      assert.ok(Math.abs(r.perplexity / (task.values.perplexity as number) - 1) < 1e-5);
      assert.equal(r.bitsPerByte, undefined);
    }
    model.dispose();
  });

  it('packs a token stream into non-overlapping chunks and drops the short tail', () => {
    const p = packTokenSequences([1, 2, 3, 4, 5, 6, 7], 3);
    assert.equal(p.samples.count, 2);
    assert.deepEqual([...p.samples.x], [1, 2, 3, 4, 5, 6]);
    assert.deepEqual(p.samples.sampleShape, [3]);
    assert.equal(p.usedTokens, 6);
  });

  it('rejects sequences longer than the model, tokens outside the vocabulary and non-sequences (E_DATA)', async () => {
    const model = tinyGpt2();
    const long = packTokenSequences(randomIds(23, 1, 13).flat(), 13).samples;
    const e1 = await thrown(() => evaluatePerplexity(model, long, { batchSize: 1 }));
    assert.equal(e1.code, 'E_DATA');
    assert.match(e1.message, /13 tokens are longer than the model's 12 positions/);
    const oov = packTokenSequences([1, 2, 3, 50], 4).samples;
    const e2 = await thrown(() => evaluatePerplexity(model, oov, { batchSize: 1 }));
    assert.equal(e2.code, 'E_DATA');
    assert.match(e2.message, /token 50 at position 3/);
    const image = { ...packTokenSequences([1, 2, 3, 4], 4).samples, sampleShape: [2, 2] };
    assert.equal(
      (await thrown(() => evaluatePerplexity(model, image, { batchSize: 1 }))).code,
      'E_DATA',
    );
    model.dispose();
  });
});
