// The causal-lm task: batches of int32 token ids, the mean next-token NLL per sequence and its
// gradient against float64 formulas, evaluate against the reference forward, and checkData.
import { strict as assert } from 'node:assert';
import * as tf from '@tensorflow/tfjs-core';
import { initBackend } from '../../../src/models/backend.js';
import { HfCausalLmModel } from '../../../src/models/hf/causal-lm-model.js';
import { parseHfConfig } from '../../../src/models/hf/hf-config.js';
import { CausalLmTask } from '../../../src/models/tasks/causal-lm.js';
import type { Dataset, DatasetSplit } from '../../../src/plugin-api/dataset.js';
import { Rng } from '../../../src/util/rng.js';
import { gpt2Json, gpt2Weights, randomIds } from './checkpoints.js';
import { assertClose } from './harness.js';
import { refGpt2, refLoss } from './reference.js';

function split(rows: number[][], name = 'test', firstId = 0): DatasetSplit {
  const count = rows.length;
  return {
    name,
    count,
    sampleShape: [rows[0]?.length ?? 0],
    x: Float32Array.from(rows.flat()),
    y: new Int32Array(count),
    ids: Int32Array.from({ length: count }, (_, i) => firstId + i),
  };
}

function dataset(s: DatasetSplit): Dataset {
  return { source: 'jsonl', numClasses: 0, splits: new Map([[s.name, s]]) };
}

function codeOf(f: () => unknown): { code: string; message: string } {
  try {
    f();
  } catch (e) {
    return { code: (e as { code: string }).code, message: (e as Error).message };
  }
  assert.fail('expected an error');
}

describe('hf-forward: the causal-lm task', () => {
  before(async () => {
    await initBackend('wasm');
  });

  const task = new CausalLmTask({ vocabSize: 50, maxPositions: 12 });

  it('batches token ids as int32 [count, seq] with the same ids as targets', () => {
    const rows = randomIds(1, 4, 6);
    const before = tf.memory().numTensors;
    const b = task.batch(split(rows), [2, 0]);
    assert.equal(b.count, 2);
    assert.equal(b.inputs.dtype, 'int32');
    assert.deepEqual(b.inputs.arraySync(), [rows[2], rows[0]]);
    assert.deepEqual(b.targets.arraySync(), [rows[2], rows[0]]);
    tf.dispose([b.inputs, b.targets]);
    assert.equal(tf.memory().numTensors, before);
  });

  it('perSampleLoss is the mean next-token NLL; its gradient is (softmax − onehot)/(seq − 1), 0 at the last position', () => {
    const rng = new Rng(2);
    const [count, seq, vocab] = [3, 5, 50];
    const rows = randomIds(3, count, seq);
    const logits = Float32Array.from({ length: count * seq * vocab }, () => 2 * rng.normal());
    const before = tf.memory().numTensors;
    const b = task.batch(split(rows));
    const z = tf.tensor3d(logits, [count, seq, vocab]);
    const losses = task.perSampleLoss(z, b);
    const grad = tf.grad((x: tf.Tensor) => tf.sum(task.perSampleLoss(x, b)))(z);
    const [l, g] = [losses.dataSync(), grad.dataSync()];
    tf.dispose([b.inputs, b.targets, z, losses, grad]);
    assert.equal(tf.memory().numTensors, before, 'tensors leaked');
    const expectedGrad = new Float64Array(count * seq * vocab);
    rows.forEach((row, s) => {
      let nll = 0;
      for (let t = 0; t + 1 < seq; t++) {
        const at = (s * seq + t) * vocab;
        const zs = Array.from(logits.subarray(at, at + vocab));
        const max = Math.max(...zs);
        const sum = zs.reduce((a, v) => a + Math.exp(v - max), 0);
        const target = row[t + 1] as number;
        nll += max + Math.log(sum) - (zs[target] as number);
        zs.forEach(
          (v, k) =>
            (expectedGrad[at + k] = (Math.exp(v - max) / sum - (k === target ? 1 : 0)) / (seq - 1)),
        );
      }
      assert.ok(
        Math.abs((l[s] as number) - nll / (seq - 1)) < 1e-5,
        `loss of sequence ${s}: ${l[s]} vs ${nll / (seq - 1)}`,
      );
    });
    assertClose(g, expectedGrad, 1e-5, 'gradient');
  });

  it('evaluate reports the token-weighted NLL and its perplexity, as the reference forward gives them', () => {
    const weights = gpt2Weights(4);
    const model = new HfCausalLmModel(parseHfConfig(gpt2Json), weights);
    const rows = randomIds(5, 5, 6);
    const metrics = model.task.evaluate(model, split(rows), { batchSize: 2 });
    const nll = refLoss(refGpt2(gpt2Json, weights, rows).logits, rows, 50) / 5;
    assert.equal(metrics.count, 5);
    assert.equal(metrics.values.tokens, 25);
    assert.ok(Math.abs(metrics.loss - nll) < 1e-5, `loss ${metrics.loss} vs ${nll}`);
    assert.ok(
      Math.abs((metrics.values.perplexity as number) / Math.exp(nll) - 1) < 1e-5,
      'perplexity',
    );
    model.dispose();
  });

  it('checkData names the sample whose token is outside the vocabulary, and rejects non-sequences', () => {
    const rows = randomIds(6, 3, 6);
    task.checkData(dataset(split(rows)), split(rows), 'stage x');
    (rows[1] as number[])[4] = 50;
    const s = split(rows, 'train', 40);
    const bad = codeOf(() => task.checkData(dataset(s), s, 'stage x'));
    assert.equal(bad.code, 'E_DATA');
    assert.match(bad.message, /sample id 41 has token 50 at position 4/);
    assert.match(bad.message, /stage x/);
    (rows[1] as number[])[4] = 2.5;
    assert.match(codeOf(() => task.batch(split(rows))).message, /sample id 1 has token 2.5/);
    const image: DatasetSplit = { ...split(randomIds(7, 2, 6)), sampleShape: [2, 3] };
    assert.equal(codeOf(() => task.checkData(dataset(image), image, 'stage x')).code, 'E_DATA');
    const long = split(randomIds(8, 1, 13));
    assert.match(
      codeOf(() => task.checkData(dataset(long), long, 'stage x')).message,
      /longer than the model's 12 positions/,
    );
    const single = split([[3]]);
    assert.equal(codeOf(() => task.checkData(dataset(single), single, 'stage x')).code, 'E_DATA');
  });
});
