// Initial weights for a causal LM trained from scratch, as Hugging Face transformers initialises
// them (`_init_weights`): every matrix and embedding ~ N(0, initializer_range²) (0.02), GPT-2's
// residual projections (attn.c_proj, mlp.c_proj) scaled by 1/√(2·n_layer), norm weights 1,
// biases 0. Each tensor draws from its own Rng stream forked by its HF name, so the initial
// weights depend only on the seed and the config.
import type { Rng } from '../../util/rng.js';
import { architectureFor } from './causal-lm-model.js';
import type { HfCausalLmConfig } from './hf-config.js';

export const defaultInitializerRange = 0.02;

/** HF tensor names the architecture uses for GPT-2 checkpoints saved by GPT2LMHeadModel. */
const gpt2Names = new Set(['transformer.wte.weight']);

function isNormWeight(name: string): boolean {
  return /(^|\.)(ln_\d|ln_f|input_layernorm|post_attention_layernorm|norm)\.weight$/.test(name);
}

export function initialWeights(
  config: HfCausalLmConfig,
  rng: Rng,
  initializerRange = defaultInitializerRange,
): Map<string, Float32Array> {
  const arch = architectureFor(config, config.architecture === 'gpt2' ? gpt2Names : new Set());
  const residualScale = config.architecture === 'gpt2' ? 1 / Math.sqrt(2 * config.numLayers) : 1;
  const out = new Map<string, Float32Array>();
  for (const t of arch.layout.tensors) {
    const size = t.shape.reduce((a, b) => a * b, 1);
    const data = new Float32Array(size);
    if (isNormWeight(t.name)) data.fill(1);
    else if (!t.name.endsWith('.bias')) {
      const std = initializerRange * (/\.c_proj\.weight$/.test(t.name) ? residualScale : 1);
      const r = rng.fork(t.name);
      for (let i = 0; i < size; i++) data[i] = std * r.normal();
    }
    out.set(t.name, data);
  }
  return out;
}
