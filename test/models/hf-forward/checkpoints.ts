// Tiny random GPT-2 and Llama checkpoints, built here in the real HF tensor names and layouts
// (GPT-2 Conv1D [in, out], Llama nn.Linear [out, in]), with the config.json objects that go
// with them: vocab 50, hidden 16, 2 layers, 4 heads (Llama: 2 kv heads).
import { Rng } from '../../../src/util/rng.js';

export type RawConfig = Record<string, unknown>;

export const gpt2Json: RawConfig = {
  model_type: 'gpt2',
  architectures: ['GPT2LMHeadModel'],
  vocab_size: 50,
  n_embd: 16,
  n_layer: 2,
  n_head: 4,
  n_positions: 12,
  n_inner: null,
  layer_norm_epsilon: 1e-5,
  activation_function: 'gelu_new',
  resid_pdrop: 0,
  embd_pdrop: 0,
  attn_pdrop: 0,
};

export const llamaJson: RawConfig = {
  model_type: 'llama',
  architectures: ['LlamaForCausalLM'],
  vocab_size: 50,
  hidden_size: 16,
  intermediate_size: 24,
  num_hidden_layers: 2,
  num_attention_heads: 4,
  num_key_value_heads: 2,
  rms_norm_eps: 1e-6,
  rope_theta: 10000,
  max_position_embeddings: 32,
  tie_word_embeddings: false,
  hidden_act: 'silu',
  rope_scaling: null,
};

function normal(rng: Rng, n: number, scale: number, offset = 0): Float32Array {
  return Float32Array.from({ length: n }, () => offset + scale * rng.normal());
}

/** GPT-2 weights; `prefix` 'transformer.' as GPT2LMHeadModel saves them, '' as GPT2Model. */
export function gpt2Weights(seed: number, prefix = ''): Map<string, Float32Array> {
  const rng = new Rng(seed);
  const d = 16;
  const inner = 64;
  const w = new Map<string, Float32Array>();
  w.set(`${prefix}wte.weight`, normal(rng, 50 * d, 0.5));
  w.set(`${prefix}wpe.weight`, normal(rng, 12 * d, 0.3));
  const norm = (name: string): void => {
    w.set(`${name}.weight`, normal(rng, d, 0.1, 1));
    w.set(`${name}.bias`, normal(rng, d, 0.1));
  };
  const conv1d = (name: string, fanIn: number, units: number): void => {
    w.set(`${name}.weight`, normal(rng, fanIn * units, 0.3));
    w.set(`${name}.bias`, normal(rng, units, 0.1));
  };
  for (let i = 0; i < 2; i++) {
    const h = `${prefix}h.${i}`;
    norm(`${h}.ln_1`);
    conv1d(`${h}.attn.c_attn`, d, 3 * d);
    conv1d(`${h}.attn.c_proj`, d, d);
    norm(`${h}.ln_2`);
    conv1d(`${h}.mlp.c_fc`, d, inner);
    conv1d(`${h}.mlp.c_proj`, inner, d);
  }
  norm(`${prefix}ln_f`);
  return w;
}

/** Llama weights (untied lm_head unless `tied`). */
export function llamaWeights(seed: number, tied = false): Map<string, Float32Array> {
  const rng = new Rng(seed);
  const [d, inner, hd] = [16, 24, 4];
  const w = new Map<string, Float32Array>();
  w.set('model.embed_tokens.weight', normal(rng, 50 * d, 0.5));
  const linear = (name: string, fanIn: number, units: number): void => {
    w.set(`${name}.weight`, normal(rng, units * fanIn, 0.3));
  };
  for (let i = 0; i < 2; i++) {
    const l = `model.layers.${i}`;
    w.set(`${l}.input_layernorm.weight`, normal(rng, d, 0.1, 1));
    linear(`${l}.self_attn.q_proj`, d, 4 * hd);
    linear(`${l}.self_attn.k_proj`, d, 2 * hd);
    linear(`${l}.self_attn.v_proj`, d, 2 * hd);
    linear(`${l}.self_attn.o_proj`, 4 * hd, d);
    w.set(`${l}.post_attention_layernorm.weight`, normal(rng, d, 0.1, 1));
    linear(`${l}.mlp.gate_proj`, d, inner);
    linear(`${l}.mlp.up_proj`, d, inner);
    linear(`${l}.mlp.down_proj`, inner, d);
  }
  w.set('model.norm.weight', normal(rng, d, 0.1, 1));
  if (!tied) w.set('lm_head.weight', normal(rng, 50 * d, 0.3));
  return w;
}

/** `count` random sequences of `seq` token ids below 50. */
export function randomIds(seed: number, count: number, seq: number): number[][] {
  const rng = new Rng(seed);
  return Array.from({ length: count }, () => Array.from({ length: seq }, () => rng.int(50)));
}
