// GPT-2 and Llama logits against the float64 reference, and greedy decoding with one full
// forward per token against the full forward of the final sequence (the causal mask at work).
import { strict as assert } from 'node:assert';
import * as tf from '@tensorflow/tfjs-core';
import { initBackend } from '../../../src/models/backend.js';
import { HfCausalLmModel } from '../../../src/models/hf/causal-lm-model.js';
import { parseHfConfig } from '../../../src/models/hf/hf-config.js';
import {
  gpt2Json,
  gpt2Weights,
  llamaJson,
  llamaWeights,
  randomIds,
  type RawConfig,
} from './checkpoints.js';
import { assertClose, maxDiff, runLogits } from './harness.js';
import { argmax, refGpt2, refLlama, type RefResult } from './reference.js';

interface Case {
  readonly name: string;
  readonly json: RawConfig;
  weights(): Map<string, Float32Array>;
  ref(w: Map<string, Float32Array>, ids: number[][]): RefResult;
}

const cases: Case[] = [
  {
    name: 'GPT-2 (GPT2Model names)',
    json: gpt2Json,
    weights: () => gpt2Weights(1),
    ref: (w, ids) => refGpt2(gpt2Json, w, ids),
  },
  {
    name: 'GPT-2 (transformer. prefix)',
    json: gpt2Json,
    weights: () => gpt2Weights(2, 'transformer.'),
    ref: (w, ids) => refGpt2(gpt2Json, w, ids, {}, 'transformer.'),
  },
  {
    name: 'Llama (GQA 4/2, untied)',
    json: llamaJson,
    weights: () => llamaWeights(3),
    ref: (w, ids) => refLlama(llamaJson, w, ids),
  },
  {
    name: 'Llama (tied)',
    json: { ...llamaJson, tie_word_embeddings: true },
    weights: () => llamaWeights(4, true),
    ref: (w, ids) => refLlama({ ...llamaJson, tie_word_embeddings: true }, w, ids),
  },
  {
    name: 'Mistral (sliding_window null, MHA)',
    json: { ...llamaJson, model_type: 'mistral', sliding_window: null, num_key_value_heads: 4 },
    weights: () => {
      // MHA: k/v projections as wide as q.
      const w = llamaWeights(5);
      const other = llamaWeights(6);
      for (let i = 0; i < 2; i++) {
        for (const p of ['k_proj', 'v_proj']) {
          const q = other.get(`model.layers.${i}.self_attn.q_proj.weight`) as Float32Array;
          w.set(`model.layers.${i}.self_attn.${p}.weight`, p === 'k_proj' ? q : q.map((v) => -v));
        }
      }
      return w;
    },
    ref: (w, ids) => refLlama({ ...llamaJson, num_key_value_heads: 4 }, w, ids),
  },
];

describe('hf-forward: GPT-2 and Llama logits', () => {
  before(async () => {
    await initBackend('wasm');
  });

  for (const c of cases) {
    it(`${c.name}: logits equal the float64 reference`, () => {
      const w = c.weights();
      const before = tf.memory().numTensors;
      const model = new HfCausalLmModel(parseHfConfig(c.json), w);
      const ids = randomIds(7, 2, 7);
      const logits = runLogits(model, ids);
      assertClose(logits, c.ref(w, ids).logits, 1e-4, 'logits');
      // The batch does not mix: each sequence alone gives the same logits.
      const alone = runLogits(model, [ids[1] as number[]]);
      assertClose(alone, logits.subarray(7 * 50), 1e-5, 'second sequence alone');
      model.dispose();
      assert.equal(tf.memory().numTensors, before, 'tensors leaked');
    });

    it(`${c.name}: greedy decoding one full forward per token agrees with the final sequence's forward`, () => {
      const w = c.weights();
      const model = new HfCausalLmModel(parseHfConfig(c.json), w);
      const seq = [3, 17];
      const stepLogits: Float32Array[] = [];
      while (seq.length < 7) {
        const logits = runLogits(model, [seq]);
        const last = logits.subarray((seq.length - 1) * 50, seq.length * 50);
        stepLogits.push(Float32Array.from(last));
        seq.push(argmax(last, 0, 50));
      }
      const full = runLogits(model, [seq]);
      const reference = c.ref(w, [seq]).logits;
      for (let p = 2; p < 7; p++) {
        assert.equal(
          seq[p],
          argmax(full, (p - 1) * 50, 50),
          `token ${p} is the argmax of the final forward at ${p - 1}`,
        );
        assert.equal(
          seq[p],
          argmax(reference, (p - 1) * 50, 50),
          `token ${p} is the reference's argmax`,
        );
        // Later tokens do not change earlier logits.
        assertClose(
          full.subarray((p - 1) * 50, p * 50),
          stepLogits[p - 2] as Float32Array,
          1e-5,
          `logits at ${p - 1}`,
        );
      }
      model.dispose();
    });
  }

  it('GPT-2: a stored lm_head.weight equal to wte is accepted and given back by tensors()', () => {
    const w = gpt2Weights(1, 'transformer.');
    w.set('lm_head.weight', Float32Array.from(w.get('transformer.wte.weight') as Float32Array));
    const model = new HfCausalLmModel(parseHfConfig(gpt2Json), w);
    const ids = randomIds(8, 1, 5);
    assertClose(
      runLogits(model, ids),
      refGpt2(gpt2Json, w, ids, {}, 'transformer.').logits,
      1e-4,
      'logits',
    );
    const out = model.tensors();
    assert.deepEqual([...out.keys()].sort(), [...w.keys()].sort());
    for (const [name, data] of w) assert.deepEqual(out.get(name), data, name);
    model.dispose();
  });

  it('GPT-2 with tie_word_embeddings false uses its own lm_head', () => {
    const json = { ...gpt2Json, tie_word_embeddings: false };
    const w = gpt2Weights(1);
    w.set('lm_head.weight', llamaWeights(9).get('lm_head.weight') as Float32Array);
    const model = new HfCausalLmModel(parseHfConfig(json), w);
    const ids = randomIds(8, 1, 5);
    const logits = runLogits(model, ids);
    assertClose(logits, refGpt2(json, w, ids).logits, 1e-4, 'logits');
    assert.ok(
      maxDiff(logits, refGpt2(gpt2Json, w, ids).logits) > 0.1,
      'the head is not the embedding',
    );
    model.dispose();
  });
});
