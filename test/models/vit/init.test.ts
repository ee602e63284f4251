// Initial weights of a ViT/DeiT trained from scratch, checked against transformers' _init_weights
// (by statistics of the draws and exact values where they are constants): truncated
// N(0, initializer_range²) linear and patch weights, zero biases, LayerNorm 1/0, ViT's class token
// and positions normal, DeiT's zero; a function of the seed only.
import assert from 'node:assert/strict';
import { initialVitWeights } from '../../../src/models/hf/vit-init.js';
import { parseVitConfig } from '../../../src/models/hf/vit-config.js';
import { Rng } from '../../../src/util/rng.js';

const json = {
  image_size: 28,
  patch_size: 7,
  num_channels: 1,
  hidden_size: 32,
  num_hidden_layers: 2,
  num_attention_heads: 4,
  intermediate_size: 64,
  num_labels: 10,
  initializer_range: 0.05,
};

function stats(a: Float32Array): { mean: number; std: number; max: number } {
  const mean = a.reduce((s, v) => s + v, 0) / a.length;
  const std = Math.sqrt(a.reduce((s, v) => s + (v - mean) ** 2, 0) / a.length);
  return { mean, std, max: Math.max(...a.map(Math.abs)) };
}

describe('hf-image-classifier: initial weights', () => {
  it('ViT: truncated normal weights, class token and positions; LayerNorm 1/0; biases 0', () => {
    const w = initialVitWeights(parseVitConfig({ ...json, model_type: 'vit' }), new Rng(1));
    const q = w.get('vit.encoder.layer.1.intermediate.dense.weight')!;
    assert.equal(q.length, 64 * 32);
    const s = stats(q);
    // 2048 draws: the sample std is within 5 % of 0.05 and the mean within 4 standard errors.
    assert.ok(Math.abs(s.std - 0.05) < 0.0025, `std ${s.std}`);
    assert.ok(Math.abs(s.mean) < (4 * 0.05) / Math.sqrt(q.length), `mean ${s.mean}`);
    for (const name of ['vit.embeddings.cls_token', 'vit.embeddings.position_embeddings']) {
      const t = stats(w.get(name)!);
      assert.ok(t.std > 0.03 && t.std < 0.07, `${name} std ${t.std}`);
    }
    assert.equal(w.get('vit.embeddings.position_embeddings')!.length, 17 * 32);
    assert.ok(w.get('vit.embeddings.patch_embeddings.projection.weight')!.some((v) => v !== 0));
    for (const [name, t] of w) {
      if (name.endsWith('.bias'))
        assert.ok(
          t.every((v) => v === 0),
          `${name} is 0`,
        );
      if (/layernorm(_before|_after)?\.weight$/.test(name))
        assert.ok(
          t.every((v) => v === 1),
          `${name} is 1`,
        );
    }
    const again = initialVitWeights(parseVitConfig({ ...json, model_type: 'vit' }), new Rng(1));
    for (const [name, t] of w) assert.deepEqual(again.get(name), t, `${name}: same seed`);
    const other = initialVitWeights(parseVitConfig({ ...json, model_type: 'vit' }), new Rng(2));
    assert.notDeepEqual(other.get('classifier.weight'), w.get('classifier.weight'));
  });

  it('DeiT: class token, distillation token and positions are 0; the cut at ±2 holds', () => {
    const w = initialVitWeights(
      parseVitConfig({ ...json, model_type: 'deit', initializer_range: 1.5 }),
      new Rng(3),
    );
    for (const name of ['cls_token', 'distillation_token', 'position_embeddings'])
      assert.ok(
        w.get(`deit.embeddings.${name}`)!.every((v) => v === 0),
        name,
      );
    assert.equal(w.get('deit.embeddings.position_embeddings')!.length, 18 * 32);
    // With std 1.5, a plain normal would exceed 2 in 18 % of draws.
    assert.ok(stats(w.get('deit.encoder.layer.0.output.dense.weight')!).max <= 2);
  });
});
