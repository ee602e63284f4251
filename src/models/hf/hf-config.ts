// A Hugging Face config.json, parsed and validated for the causal-LM architectures scalpel runs
// itself (gpt2.ts, llama.ts): every field the forward depends on, with HF's defaults filled in,
// and an E_DATA naming the field for anything that would make our forward compute something
// other than transformers' (sliding windows, RoPE scaling, biased Llama projections…).
import { ConfigFields as Fields, type Json } from './config-fields.js';

export interface Gpt2Config {
  readonly architecture: 'gpt2';
  readonly modelType: string;
  readonly vocabSize: number;
  readonly hiddenSize: number;
  readonly numLayers: number;
  readonly numHeads: number;
  readonly headDim: number;
  /** MLP width: n_inner, else 4·n_embd. */
  readonly intermediateSize: number;
  /** n_positions: rows of the learned position table. */
  readonly maxPositions: number;
  readonly layerNormEps: number;
  readonly tieWordEmbeddings: boolean;
  /** Dropout rates, active only in training passes. */
  readonly embdDropout: number;
  readonly attnDropout: number;
  readonly residDropout: number;
}

export interface LlamaConfig {
  readonly architecture: 'llama';
  /** 'llama' or 'mistral' (same forward without a sliding window). */
  readonly modelType: string;
  readonly vocabSize: number;
  readonly hiddenSize: number;
  readonly intermediateSize: number;
  readonly numLayers: number;
  readonly numHeads: number;
  readonly numKvHeads: number;
  readonly headDim: number;
  readonly rmsNormEps: number;
  readonly ropeTheta: number;
  readonly maxPositions: number;
  readonly tieWordEmbeddings: boolean;
  readonly attentionDropout: number;
}

export type HfCausalLmConfig = Gpt2Config | LlamaConfig;

const supported =
  'supported: model_type gpt2 (GPT2LMHeadModel), llama (LlamaForCausalLM), mistral (MistralForCausalLM)';

function architectureOf(json: Json): 'gpt2' | 'llama' | undefined {
  const type = json.model_type;
  if (type === 'gpt2') return 'gpt2';
  if (type === 'llama' || type === 'mistral') return 'llama';
  if (type !== undefined) return undefined;
  const archs = Array.isArray(json.architectures) ? json.architectures : [];
  if (archs.includes('GPT2LMHeadModel')) return 'gpt2';
  if (archs.includes('LlamaForCausalLM') || archs.includes('MistralForCausalLM')) return 'llama';
  return undefined;
}

function parseGpt2(f: Fields, json: Json): Gpt2Config {
  const hiddenSize = f.int('n_embd');
  const numHeads = f.int('n_head');
  if (hiddenSize % numHeads !== 0) {
    f.fail(`n_embd ${hiddenSize} is not divisible by n_head ${numHeads}`, 'fix config.json');
  }
  const act = json.activation_function ?? 'gelu_new';
  if (act !== 'gelu_new' && act !== 'gelu_pytorch_tanh') {
    f.fail(
      `activation_function ${JSON.stringify(act)} is not supported`,
      "supported: 'gelu_new' (the tanh approximation GPT-2 uses)",
    );
  }
  f.only('scale_attn_weights', true, 'unscaled attention');
  f.only('scale_attn_by_inverse_layer_idx', false, 'attention scaled by the inverse layer index');
  f.only('add_cross_attention', false, 'cross-attention');
  return {
    architecture: 'gpt2',
    modelType: 'gpt2',
    vocabSize: f.int('vocab_size'),
    hiddenSize,
    numLayers: f.int('n_layer'),
    numHeads,
    headDim: hiddenSize / numHeads,
    intermediateSize: f.int('n_inner', 4 * hiddenSize),
    maxPositions: f.int('n_positions'),
    layerNormEps: f.positive('layer_norm_epsilon', 1e-5),
    tieWordEmbeddings: f.bool('tie_word_embeddings', true),
    embdDropout: f.rate('embd_pdrop'),
    attnDropout: f.rate('attn_pdrop'),
    residDropout: f.rate('resid_pdrop'),
  };
}

function parseLlama(f: Fields, json: Json): LlamaConfig {
  const modelType = json.model_type === 'mistral' ? 'mistral' : 'llama';
  if (
    json.sliding_window !== undefined &&
    json.sliding_window !== null &&
    modelType === 'mistral'
  ) {
    f.fail(
      'sliding window attention is not supported yet',
      "use a checkpoint whose config has 'sliding_window': null",
    );
  }
  if (json.rope_scaling !== undefined && json.rope_scaling !== null) {
    f.fail(
      `rope_scaling ${JSON.stringify(json.rope_scaling)} is not supported yet`,
      "use a checkpoint whose config has 'rope_scaling': null",
    );
  }
  const act = json.hidden_act ?? 'silu';
  if (act !== 'silu')
    f.fail(`hidden_act ${JSON.stringify(act)} is not supported`, "supported: 'silu' (SwiGLU)");
  f.only('attention_bias', false, 'biased attention projections');
  f.only('mlp_bias', false, 'biased MLP projections');
  const hiddenSize = f.int('hidden_size');
  const numHeads = f.int('num_attention_heads');
  const numKvHeads = f.int('num_key_value_heads', numHeads);
  if (numHeads % numKvHeads !== 0) {
    f.fail(
      `num_attention_heads ${numHeads} is not a multiple of num_key_value_heads ${numKvHeads}`,
      'fix config.json',
    );
  }
  if (json.head_dim === undefined && hiddenSize % numHeads !== 0) {
    f.fail(
      `hidden_size ${hiddenSize} is not divisible by num_attention_heads ${numHeads}`,
      'set head_dim in config.json',
    );
  }
  const headDim = f.int('head_dim', hiddenSize / numHeads);
  if (headDim % 2 !== 0)
    f.fail(
      `head_dim ${headDim} is odd; rotary embeddings need an even head_dim`,
      'fix config.json',
    );
  return {
    architecture: 'llama',
    modelType,
    vocabSize: f.int('vocab_size'),
    hiddenSize,
    intermediateSize: f.int('intermediate_size'),
    numLayers: f.int('num_hidden_layers'),
    numHeads,
    numKvHeads,
    headDim,
    rmsNormEps: f.positive('rms_norm_eps', 1e-6),
    ropeTheta: f.positive('rope_theta', 10000),
    maxPositions: f.int('max_position_embeddings'),
    tieWordEmbeddings: f.bool('tie_word_embeddings', false),
    attentionDropout: f.rate('attention_dropout'),
  };
}

/** The config of a GPT-2 or Llama/Mistral causal LM; `file` is named in errors. */
export function parseHfConfig(json: unknown, file = 'config.json'): HfCausalLmConfig {
  const { fields: f, json: obj } = Fields.of(json, file);
  const arch = architectureOf(obj);
  if (arch === undefined) {
    f.fail(
      `model_type ${JSON.stringify(obj.model_type)} / architectures ${JSON.stringify(obj.architectures)} is not a causal LM scalpel can run`,
      supported,
    );
  }
  return arch === 'gpt2' ? parseGpt2(f, obj) : parseLlama(f, obj);
}
