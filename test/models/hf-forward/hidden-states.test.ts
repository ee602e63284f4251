// The HF causal LMs as a HiddenStateLm: the head applied to chosen rows of hiddenStates gives
// the float64 reference's logits of those positions (tied and untied heads), and the model
// passes the capability check evaluation uses.
import { strict as assert } from 'node:assert';
import * as tf from '@tensorflow/tfjs-core';
import { initBackend } from '../../../src/models/backend.js';
import { HfCausalLmModel } from '../../../src/models/hf/causal-lm-model.js';
import { parseHfConfig } from '../../../src/models/hf/hf-config.js';
import { asHiddenStateLm } from '../../../src/models/tasks/row-logits.js';
import { gpt2Json, gpt2Weights, llamaJson, llamaWeights, randomIds } from './checkpoints.js';
import { assertClose } from './harness.js';
import { refGpt2, refLlama, type RefResult } from './reference.js';

const vocab = 50;
const cases = [
  {
    name: 'GPT-2 (tied head)',
    weights: () => gpt2Weights(8),
    json: gpt2Json,
    ref: (w: Map<string, Float32Array>, ids: number[][]): RefResult => refGpt2(gpt2Json, w, ids),
  },
  {
    name: 'Llama (untied lm_head)',
    weights: () => llamaWeights(9),
    json: llamaJson,
    ref: (w: Map<string, Float32Array>, ids: number[][]): RefResult => refLlama(llamaJson, w, ids),
  },
];

describe('hf-forward: hidden states and the LM head apart', () => {
  before(async () => {
    await initBackend('wasm');
  });

  for (const c of cases) {
    it(`${c.name}: lmHead of chosen rows of hiddenStates equals the reference logits there`, () => {
      const w = c.weights();
      const model = new HfCausalLmModel(parseHfConfig(c.json), w);
      assert.equal(asHiddenStateLm(model), model);
      assert.equal(model.vocabSize, vocab);
      const ids = randomIds(4, 2, 7);
      const rows = [13, 0, 6, 7];
      const before = tf.memory().numTensors;
      const logits = tf.tidy(() => {
        const h = model.hiddenStates(tf.tensor2d(ids, undefined, 'int32'));
        assert.deepEqual(h.shape[0], 14);
        return model.lmHead(tf.gather(h, tf.tensor1d(rows, 'int32')));
      });
      assert.deepEqual(logits.shape, [rows.length, vocab]);
      const got = logits.dataSync();
      logits.dispose();
      assert.equal(tf.memory().numTensors, before, 'tensors leaked');
      const reference = c.ref(w, ids).logits;
      const want = rows.flatMap((r) => Array.from(reference.subarray(r * vocab, (r + 1) * vocab)));
      assertClose(got, want, 1e-4, 'logits of the chosen rows');
      model.dispose();
    });
  }
});
