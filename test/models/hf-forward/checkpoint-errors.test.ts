// config.json parsing (defaults, unsupported architectures and features) and the checkpoint
// check: missing, mis-shaped and unexpected tensors are E_DATA naming the tensor.
import { strict as assert } from 'node:assert';
import * as tf from '@tensorflow/tfjs-core';
import { initBackend } from '../../../src/models/backend.js';
import { HfCausalLmModel, type HfCausalLmOptions } from '../../../src/models/hf/causal-lm-model.js';
import { parseHfConfig } from '../../../src/models/hf/hf-config.js';
import { gpt2Json, gpt2Weights, llamaJson, llamaWeights, type RawConfig } from './checkpoints.js';

function error(f: () => unknown): { code: string; message: string; hint: string } {
  try {
    f();
  } catch (e) {
    const err = e as { code: string; message: string; hint?: string };
    return { code: err.code, message: err.message, hint: err.hint ?? '' };
  }
  assert.fail('expected an error');
}

function build(
  json: RawConfig,
  weights: Map<string, Float32Array>,
  options?: HfCausalLmOptions,
): { code: string; message: string; hint: string } {
  return error(() => new HfCausalLmModel(parseHfConfig(json), weights, options));
}

describe('hf-forward: config.json and checkpoint errors', () => {
  before(async () => {
    await initBackend('wasm');
  });

  it('fills in HF defaults', () => {
    const gpt2 = parseHfConfig({
      model_type: 'gpt2',
      n_embd: 16,
      n_layer: 2,
      n_head: 4,
      n_positions: 12,
      vocab_size: 50,
    });
    assert.deepEqual(
      [
        gpt2.architecture,
        gpt2.tieWordEmbeddings,
        gpt2.headDim,
        gpt2.architecture === 'gpt2' && gpt2.intermediateSize,
        gpt2.architecture === 'gpt2' && gpt2.layerNormEps,
      ],
      ['gpt2', true, 4, 64, 1e-5],
    );
    const {
      num_key_value_heads: _kv,
      rope_theta: _t,
      tie_word_embeddings: _tie,
      model_type: _m,
      ...rest
    } = llamaJson;
    const llama = parseHfConfig({ ...rest, architectures: ['MistralForCausalLM'] });
    assert.equal(llama.architecture, 'llama');
    if (llama.architecture !== 'llama') return;
    assert.deepEqual(
      [llama.numKvHeads, llama.ropeTheta, llama.tieWordEmbeddings, llama.headDim],
      [4, 10000, false, 4],
    );
    assert.equal(parseHfConfig({ ...llamaJson, head_dim: 8 }).headDim, 8);
  });

  it('rejects unsupported architectures and features with E_DATA saying what is supported', () => {
    const bert = error(() =>
      parseHfConfig({ model_type: 'bert', architectures: ['BertModel'] }, '/m/config.json'),
    );
    assert.equal(bert.code, 'E_DATA');
    assert.match(
      bert.message,
      /\/m\/config\.json: model_type "bert" \/ architectures \["BertModel"\]/,
    );
    assert.match(bert.hint, /gpt2.*llama.*mistral/);
    const mistral = error(() =>
      parseHfConfig({ ...llamaJson, model_type: 'mistral', sliding_window: 4096 }),
    );
    assert.equal(mistral.code, 'E_DATA');
    assert.match(mistral.message, /sliding window attention is not supported yet/);
    const scaled = error(() =>
      parseHfConfig({ ...llamaJson, rope_scaling: { type: 'linear', factor: 2 } }),
    );
    assert.match(scaled.message, /rope_scaling .* not supported/);
    assert.match(
      error(() => parseHfConfig({ ...llamaJson, num_key_value_heads: 3 })).message,
      /not a multiple/,
    );
    assert.match(
      error(() => parseHfConfig({ ...gpt2Json, n_embd: undefined })).message,
      /'n_embd' is missing/,
    );
    assert.match(
      error(() => parseHfConfig({ ...gpt2Json, activation_function: 'relu' })).message,
      /activation_function "relu"/,
    );
    assert.match(
      error(() => parseHfConfig({ ...llamaJson, attention_bias: true })).message,
      /attention_bias/,
    );
    assert.equal(error(() => parseHfConfig([])).code, 'E_DATA');
  });

  it('a missing tensor, a wrong size, a transposed shape or an unexpected tensor is E_DATA naming it', () => {
    const before = tf.memory().numTensors;
    const missing = llamaWeights(1);
    missing.delete('model.layers.1.mlp.up_proj.weight');
    const m = build(llamaJson, missing);
    assert.equal(m.code, 'E_DATA');
    assert.match(
      m.message,
      /no tensor 'model\.layers\.1\.mlp\.up_proj\.weight' \(expected shape \[24, 16\]\)/,
    );

    const short = gpt2Weights(1);
    short.set('h.0.attn.c_attn.weight', new Float32Array(16 * 16));
    assert.match(
      build(gpt2Json, short).message,
      /'h\.0\.attn\.c_attn\.weight' has 256 values; the config expects shape \[16, 48\]/,
    );

    // Same size, other orientation: only the stored shape tells.
    const shapes = new Map([['model.layers.0.mlp.down_proj.weight', [24, 16]]]);
    assert.match(
      build(llamaJson, llamaWeights(1), { shapes }).message,
      /'model\.layers\.0\.mlp\.down_proj\.weight' has shape \[24, 16\]; the config expects shape \[16, 24\]/,
    );

    const extra = gpt2Weights(1);
    extra.set('score.weight', new Float32Array(32));
    assert.match(build(gpt2Json, extra).message, /unexpected tensor 'score\.weight'/);

    // Fewer layers in the config than in the weights.
    assert.match(
      build({ ...llamaJson, num_hidden_layers: 1 }, llamaWeights(1)).message,
      /unexpected tensor 'model\.layers\.1\./,
    );

    const tied = gpt2Weights(1);
    tied.set('lm_head.weight', new Float32Array(50 * 16));
    assert.match(build(gpt2Json, tied).message, /'lm_head\.weight' differs from 'wte\.weight'/);

    assert.match(build(llamaJson, llamaWeights(1, true)).message, /no tensor 'lm_head\.weight'/);
    assert.match(
      build({ ...llamaJson, tie_word_embeddings: true }, llamaWeights(1, true), {
        includeLmHead: true,
      }).message,
      /tied/,
    );
    assert.equal(tf.memory().numTensors, before, 'a rejected checkpoint leaves no tensors');
  });

  it('accepts the buffers transformers ignores on load (GPT-2 attn.bias, Llama rotary inv_freq)', () => {
    const gpt2 = gpt2Weights(1, 'transformer.');
    gpt2.set('transformer.h.0.attn.bias', new Float32Array(144));
    gpt2.set('transformer.h.1.attn.masked_bias', new Float32Array(1));
    const a = new HfCausalLmModel(parseHfConfig(gpt2Json), gpt2);
    assert.ok(!a.tensors().has('transformer.h.0.attn.bias'));
    assert.equal(a.operators[0]?.name, 'transformer.h.0.attn.c_attn');
    a.dispose();
    const llama = llamaWeights(1);
    llama.set('model.layers.0.self_attn.rotary_emb.inv_freq', new Float32Array(2));
    const b = new HfCausalLmModel(parseHfConfig(llamaJson), llama);
    assert.equal(b.operators.length, 14);
    assert.equal(b.architecture, 'llama');
    assert.deepEqual(b.parameterCounts(), {
      total: [...llamaWeights(1).values()].reduce((n, t) => n + t.length, 0),
      nonZero: [...llamaWeights(1).values()].reduce(
        (n, t) => n + t.filter((v) => v !== 0).length,
        0,
      ),
    });
    b.dispose();
  });
});
