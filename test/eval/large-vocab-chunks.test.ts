// With a vocabulary large enough that the log-softmax is taken a chunk of rows at a time (40,000:
// 52 rows per chunk, so 90 rows make two chunks), targetLogProbs and CausalLmTask.evaluate still
// give the float64 log-softmax of every row, computed here from the logits by hand — from full
// logits, and from a HiddenStateLm whose head is asked for one chunk of rows at a time.
import { strict as assert } from 'node:assert';
import * as tf from '@tensorflow/tfjs-core';
import { evaluatePerplexity } from '../../src/eval/perplexity.js';
import { targetLogProbs } from '../../src/eval/token-log-probs.js';
import { initBackend } from '../../src/models/backend.js';
import { CausalLmTask } from '../../src/models/tasks/causal-lm.js';
import type { Samples } from '../../src/plugin-api/dataset.js';
import type { PrunableModel } from '../../src/plugin-api/model.js';
import { Rng } from '../../src/util/rng.js';
import { expectArraysClose } from '../helpers/expect-arrays-close.js';

const [count, seq, vocab] = [3, 30, 40_000];

/** log softmax(logits row r)[k] in float64. */
function logSoftmax(logits: Float32Array, r: number, k: number): number {
  const row = logits.subarray(r * vocab, (r + 1) * vocab);
  let max = -Infinity;
  for (const v of row) max = Math.max(max, v);
  let sum = 0;
  for (const v of row) sum += Math.exp(v - max);
  return (row[k] as number) - max - Math.log(sum);
}

describe('eval: log-softmax in row chunks for large vocabularies', function () {
  this.timeout(20_000);
  const rng = new Rng(3);
  const logits = Float32Array.from({ length: count * seq * vocab }, () => 3 * rng.normal());
  const ids = Float32Array.from({ length: count * seq }, () => rng.int(vocab));
  const samples: Samples = {
    count,
    sampleShape: [seq],
    x: ids,
    y: new Int32Array(count),
    ids: Int32Array.from({ length: count }, (_, i) => i),
  };
  /** −Σ log p(next token) over every sequence, in float64, from logits [count·seq, vocab]. */
  const totalNll = (rows: Float32Array): number => {
    let nll = 0;
    for (let b = 0; b < count; b++)
      for (let t = 0; t + 1 < seq; t++)
        nll -= logSoftmax(rows, b * seq + t, ids[b * seq + t + 1] as number);
    return nll;
  };
  before(async () => {
    await initBackend('wasm');
  });

  it('targetLogProbs: every position across the chunk boundary, with the greedy flags', () => {
    const positions = Int32Array.from({ length: count * seq - 3 }, (_, i) => i + 2);
    const targets = Int32Array.from(positions, (p) => ids[p] as number);
    // one target the arg-max of its row, to see a greedy flag set
    const p0 = positions[60] as number;
    let best = 0;
    for (let k = 1; k < vocab; k++)
      if (logits[p0 * vocab + k]! > logits[p0 * vocab + best]!) best = k;
    targets[60] = best;
    const t = tf.tensor3d(logits, [count, seq, vocab]);
    const before = tf.memory().numTensors;
    const { logProbs, greedy } = targetLogProbs(t, positions, targets, true);
    assert.equal(tf.memory().numTensors, before, 'no tensors leak');
    t.dispose();
    const want = Array.from(positions, (p, i) => logSoftmax(logits, p, targets[i] as number));
    expectArraysClose(logProbs, want, 1e-4, 'log-probabilities by position');
    assert.equal(greedy?.[60], 1);
    assert.equal(
      greedy?.reduce((a, b) => a + b, 0),
      1,
      'random targets are not the arg-max',
    );
  });

  it('CausalLmTask.evaluate: the token-weighted NLL over both chunks', () => {
    const fixed = { forward: () => ({ output: tf.tensor3d(logits, [count, seq, vocab]) }) };
    const model = fixed as unknown as PrunableModel;
    const nll = totalNll(logits) / (count * (seq - 1));
    const before = tf.memory().numTensors;
    const m = new CausalLmTask({ vocabSize: vocab }).evaluate(model, samples, { batchSize: count });
    assert.equal(tf.memory().numTensors, before, 'no tensors leak');
    // relative: float32 sums over 40,000 exp terms
    assert.ok(Math.abs(m.loss / nll - 1) < 1e-5, `loss ${m.loss} vs ${nll}`);
    assert.equal(m.values.tokens, count * (seq - 1));
  });

  it('a HiddenStateLm: the head is asked for at most one chunk of rows, same NLL', () => {
    // hidden states [rows, width] and a head matrix [width, vocab]; logits = hidden·head, made
    // here in float32 exactly as tf.matMul would see them, the log-softmax in float64.
    const width = 3;
    const hidden = Float32Array.from({ length: count * seq * width }, () => rng.normal());
    const head = Float32Array.from({ length: width * vocab }, () => rng.normal());
    const full = new Float32Array(count * seq * vocab);
    for (let r = 0; r < count * seq; r++)
      for (let k = 0; k < vocab; k++) {
        let z = 0;
        for (let j = 0; j < width; j++)
          z += (hidden[r * width + j] as number) * (head[j * vocab + k] as number);
        full[r * vocab + k] = z;
      }
    let largest = 0;
    const headT = tf.tensor2d(head, [width, vocab]);
    const split = {
      vocabSize: vocab,
      forward: () => assert.fail('the full forward is not needed'),
      hiddenStates: () => tf.tensor2d(hidden, [count * seq, width]),
      lmHead: (h: tf.Tensor2D) => {
        largest = Math.max(largest, h.shape[0]);
        return tf.matMul(h, headT);
      },
    };
    const model = split as unknown as PrunableModel;
    const nll = totalNll(full);
    const before = tf.memory().numTensors;
    const m = new CausalLmTask({ vocabSize: vocab }).evaluate(model, samples, { batchSize: count });
    const p = evaluatePerplexity(model, samples, { batchSize: count, vocabSize: vocab });
    assert.equal(tf.memory().numTensors, before, 'no tensors leak');
    headT.dispose();
    const rowsPerChunk = Math.floor(2 ** 21 / vocab);
    assert.ok(largest > 0 && largest <= rowsPerChunk, `head asked for ${largest} rows at once`);
    const mean = nll / (count * (seq - 1));
    assert.ok(Math.abs(m.loss / mean - 1) < 1e-5, `task loss ${m.loss} vs ${mean}`);
    assert.ok(Math.abs(p.totalNll / nll - 1) < 1e-5, `perplexity NLL ${p.totalNll} vs ${nll}`);
  });
});
