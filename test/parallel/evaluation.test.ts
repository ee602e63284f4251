// Data-parallel evaluation (src/parallel/evaluation.ts) against the single-thread task.evaluate:
// the garment classifier on 1000 Fashion-MNIST test samples and the tiny GPT-2 / Llama on token
// sequences, at 2 and 3 worker threads, must give the same metrics bit for bit; the numbers are
// checked against a float64 computation from the model's logits; the replica follows weight
// changes; a worker's data error comes back as the same ScalpelError; no tensor leaks.
import { strict as assert } from 'node:assert';
import * as tf from '@tensorflow/tfjs-core';
import { ScalpelError } from '../../src/errors.js';
import { initBackend } from '../../src/models/backend.js';
import { evaluateNow } from '../../src/icbs/evaluate-subset.js';
import { evaluateModel } from '../../src/parallel/evaluation.js';
import type { PrunableModel } from '../../src/plugin-api/model.js';
import type { Samples } from '../../src/plugin-api/dataset.js';
import type { TaskMetrics } from '../../src/plugin-api/task.js';
import { sampleSequences, sequenceLosses, tinyLms, tokenSplit } from '../icbs/lm/fixtures.js';
import { garmentWorld, withThreads } from './fixtures.js';

/** Every number identical as a float64 bit pattern (Object.is: also tells 0 from −0). */
function assertSameBits(a: TaskMetrics, b: TaskMetrics, what: string): void {
  assert.equal(a.count, b.count, what);
  assert.ok(Object.is(a.loss, b.loss), `${what}: loss ${a.loss} vs ${b.loss}`);
  assert.deepEqual(Object.keys(a.values).sort(), Object.keys(b.values).sort(), what);
  for (const [k, v] of Object.entries(a.values))
    assert.ok(Object.is(v, b.values[k]), `${what}: ${k} ${v} vs ${b.values[k]}`);
}

/** Accuracy, top-3 accuracy and mean cross-entropy in float64 from the logits, one batch. */
function referenceClassification(model: PrunableModel, s: Samples): Record<string, number> {
  const batch = model.task.batch(s);
  const logits = tf.tidy(() => model.forward(batch.inputs, { logits: true }).output);
  const z = logits.dataSync();
  tf.dispose([logits, batch.inputs, batch.targets]);
  const classes = z.length / s.count;
  let hit = 0;
  let hit3 = 0;
  let nll = 0;
  for (let i = 0; i < s.count; i++) {
    const row = Array.from(z.subarray(i * classes, (i + 1) * classes));
    const y = s.y[i] as number;
    const max = Math.max(...row);
    const lse = max + Math.log(row.reduce((a, v) => a + Math.exp(v - max), 0));
    nll += lse - (row[y] as number);
    const rank = row.filter((v) => v > (row[y] as number)).length;
    if (rank === 0) hit++;
    if (rank < 3) hit3++;
  }
  return { accuracy: hit / s.count, top3Accuracy: hit3 / s.count, loss: nll / s.count };
}

describe('data-parallel evaluation', function () {
  this.timeout(120_000);
  before(() => initBackend('wasm'));

  it('gives the garment classifier the single-thread metrics bit for bit at 2 and 3 threads', async () => {
    const { model, test } = await garmentWorld();
    const opts = { batchSize: 128, topK: 3 };
    const before = tf.memory().numTensors;
    const one = model.task.evaluate(model, test, opts);
    const ref = referenceClassification(model, test);
    assert.equal(one.values.accuracy, ref.accuracy);
    assert.equal(one.values.top3Accuracy, ref.top3Accuracy);
    assert.ok(Math.abs(one.loss - (ref.loss ?? 0)) < 1e-5, `loss ${one.loss} vs ${ref.loss}`);
    for (const threads of [2, 3]) {
      const par = await withThreads(threads, () => evaluateModel(model, test, opts));
      assertSameBits(par, one, `${threads} threads`);
    }
    // 1000 samples in batches of 128 do not split evenly: the last shard is short.
    assert.equal(tf.memory().numTensors, before, 'tensors leaked on the calling thread');
  });

  it('follows a weight change: the replica gets the new version before the next pass', async () => {
    const { model, test } = await garmentWorld();
    const opts = { batchSize: 200 };
    const name = model.operators[1]?.name ?? '';
    const dense = model.readWeight(name);
    try {
      await withThreads(2, async () => {
        const a = await evaluateModel(model, test, opts);
        assertSameBits(a, model.task.evaluate(model, test, opts), 'dense');
        const pruned = dense.map((v) => (Math.abs(v) < 0.05 ? 0 : v));
        model.writeWeight(name, pruned);
        const b = await evaluateModel(model, test, opts);
        assertSameBits(b, model.task.evaluate(model, test, opts), 'pruned');
        assert.notEqual(b.loss, a.loss, 'the workers kept the old weights');
      });
    } finally {
      model.writeWeight(name, dense);
    }
  });

  it('returns a worker’s data error as the same ScalpelError (code, message, hint)', async () => {
    const { model, test } = await garmentWorld();
    const y = Int32Array.from(test.y);
    y[900] = 12; // in the second shard
    const bad = { ...test, y };
    const single = (() => {
      try {
        model.task.evaluate(model, bad, { batchSize: 100 });
      } catch (e) {
        return e;
      }
      return undefined;
    })();
    assert.ok(single instanceof ScalpelError);
    await withThreads(2, async () => {
      await assert.rejects(evaluateModel(model, bad, { batchSize: 100 }), (e: unknown) => {
        assert.ok(e instanceof ScalpelError, String(e));
        assert.equal(e.code, single.code);
        assert.equal(e.message, single.message);
        assert.match(e.message, /label 12, outside \[0, 10\)/);
        assert.equal(e.hint, single.hint);
        return true;
      });
      // The pool still works after a failed pass.
      const ok = await evaluateModel(model, test, { batchSize: 100 });
      assertSameBits(ok, model.task.evaluate(model, test, { batchSize: 100 }), 'after error');
    });
  });

  for (const lm of tinyLms()) {
    it(`gives the tiny ${lm.name} the single-thread perplexity bit for bit at 2 and 3 threads`, async () => {
      const ids = sampleSequences(lm, 14, 8, 5);
      const split = tokenSplit('test', ids);
      const model = lm.open();
      try {
        const opts = { batchSize: 3 };
        const one = model.task.evaluate(model, split, opts);
        // float64 reference: the mean of every sequence's mean next-token NLL (equal lengths).
        const losses = sequenceLosses(lm.logits(ids), ids);
        const ref = losses.reduce((a, b) => a + b, 0) / losses.length;
        assert.ok(Math.abs(one.loss - ref) < 1e-5, `loss ${one.loss} vs float64 ${ref}`);
        for (const threads of [2, 3]) {
          const par = await withThreads(threads, () => evaluateModel(model, split, opts));
          assertSameBits(par, one, `${lm.name}, ${threads} threads`);
        }
      } finally {
        model.dispose();
      }
    });
  }

  it("runs iCBS's quality curve (evaluateNow) on the workers with the single-thread numbers", async () => {
    const { model, test } = await garmentWorld();
    // 1000 samples are two of evaluateNow's batches of 500: one per worker.
    const one = await evaluateNow(model, test);
    const par = await withThreads(2, () => evaluateNow(model, test));
    assert.deepEqual(Object.keys(par).sort(), Object.keys(one).sort());
    for (const [k, v] of Object.entries(one))
      assert.ok(Object.is(par[k], v), `${k}: ${par[k]} vs ${v}`);
    const ref = referenceClassification(model, test);
    assert.equal(one.accuracy, ref.accuracy);
  });
});
