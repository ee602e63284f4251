// Initial weights for a ViT/DeiT classifier trained from scratch, as transformers initialises
// them (`_init_weights` of ViTPreTrainedModel / DeiTPreTrainedModel): nn.Linear and Conv2d
// weights ~ truncated N(0, initializer_range²) (torch's trunc_normal_, cut at ±2 absolute),
// biases 0, LayerNorm weights 1 and biases 0; ViT's class token and position embeddings truncated
// normal like the weights, DeiT's (and its distillation token) zero. Each tensor draws from its own
// Rng stream forked by its HF name, so the weights depend only on the seed and the config.
import type { Rng } from '../../util/rng.js';
import { VitArchitecture } from './vit.js';
import type { VitConfig } from './vit-config.js';

/** torch.nn.init.trunc_normal_'s default bounds (absolute, not in standard deviations). */
const truncation = 2;

function truncatedNormal(rng: Rng, std: number): number {
  for (;;) {
    const v = std * rng.normal();
    if (v >= -truncation && v <= truncation) return v;
  }
}

const isNormWeight = /\.(layernorm_before|layernorm_after|layernorm)\.weight$/;

export function initialVitWeights(config: VitConfig, rng: Rng): Map<string, Float32Array> {
  const arch = new VitArchitecture(config);
  const embeddings = `${arch.prefix}embeddings.`;
  const zeroEmbeddings = config.modelType === 'deit';
  const out = new Map<string, Float32Array>();
  for (const t of arch.layout.tensors) {
    const data = new Float32Array(t.shape.reduce((a, b) => a * b, 1));
    const special = t.name.startsWith(embeddings) && !t.name.includes('patch_embeddings');
    if (isNormWeight.test(t.name)) data.fill(1);
    else if (t.name.endsWith('.weight') || (special && !zeroEmbeddings)) {
      const r = rng.fork(t.name);
      for (let i = 0; i < data.length; i++) data[i] = truncatedNormal(r, config.initializerRange);
    }
    out.set(t.name, data);
  }
  return out;
}
