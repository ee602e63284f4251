// config.json for a model that did not come from a checkpoint (built in code from a parsed
// config): every field parseHfConfig reads, so that parsing it gives the same config back and
// transformers builds the same architecture. Checkpoints loaded from disk keep their own file.
import type { HfCausalLmConfig } from './hf-config.js';

export function configJsonOf(config: HfCausalLmConfig): Record<string, unknown> {
  if (config.architecture === 'gpt2') {
    return {
      model_type: 'gpt2',
      architectures: ['GPT2LMHeadModel'],
      vocab_size: config.vocabSize,
      n_embd: config.hiddenSize,
      n_layer: config.numLayers,
      n_head: config.numHeads,
      n_inner: config.intermediateSize,
      n_positions: config.maxPositions,
      layer_norm_epsilon: config.layerNormEps,
      activation_function: 'gelu_new',
      tie_word_embeddings: config.tieWordEmbeddings,
      embd_pdrop: config.embdDropout,
      attn_pdrop: config.attnDropout,
      resid_pdrop: config.residDropout,
    };
  }
  const mistral = config.modelType === 'mistral';
  return {
    model_type: mistral ? 'mistral' : 'llama',
    architectures: [mistral ? 'MistralForCausalLM' : 'LlamaForCausalLM'],
    vocab_size: config.vocabSize,
    hidden_size: config.hiddenSize,
    intermediate_size: config.intermediateSize,
    num_hidden_layers: config.numLayers,
    num_attention_heads: config.numHeads,
    num_key_value_heads: config.numKvHeads,
    head_dim: config.headDim,
    rms_norm_eps: config.rmsNormEps,
    rope_theta: config.ropeTheta,
    rope_scaling: null,
    max_position_embeddings: config.maxPositions,
    tie_word_embeddings: config.tieWordEmbeddings,
    attention_dropout: config.attentionDropout,
    hidden_act: 'silu',
    attention_bias: false,
    mlp_bias: false,
    ...(mistral ? { sliding_window: null } : {}),
  };
}
