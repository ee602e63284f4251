// The hf-image-classifier forward on small random checkpoints written in HF names (ViT with three
// channels and qkv biases; DeiT with the distillation token, with and without the teacher head)
// against the independent float64 reference of reference.ts, fed as images [H, W, C] and flat.
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs-core';
import { initBackend } from '../../../src/models/backend.js';
import { hfImageClassifierFamily } from '../../../src/models/hf/image-family.js';
import { builtinFamilyLookup } from '../../../src/models/families.js';
import type { PrunableModel } from '../../../src/plugin-api/model.js';
import { expectArraysClose } from '../../helpers/expect-arrays-close.js';
import { deitRef, randomImages, vitCase, vitRef, writeVitCase } from './fixtures.js';
import { erf, refVit } from './reference.js';

const cases = [
  vitCase('ViT (C=3, qkv bias)', vitRef, 1),
  vitCase('DeiT with teacher (C=1, no qkv bias)', deitRef, 2),
  vitCase('DeiT without teacher', { ...deitRef, teacher: false }, 3),
];

function logitsOf(model: PrunableModel, images: Float32Array[], shape: number[]): Float32Array {
  return tf.tidy(() => {
    const x = tf.tensor(Float32Array.from(images.flatMap((i) => [...i])), [
      images.length,
      ...shape,
    ]);
    return model.forward(x).output.dataSync() as Float32Array;
  });
}

describe('hf-image-classifier forward', () => {
  before(async () => {
    await initBackend('wasm');
  });

  it('the reference erf matches known values', () => {
    // erf(0.5), erf(1), erf(2), erf(3.5) to 10 digits (Abramowitz & Stegun table 7.1).
    expectArraysClose(
      [erf(0.5), erf(1), erf(2), erf(3.5), erf(-1)],
      [0.5204998778, 0.8427007929, 0.995322265, 0.9999992569, -0.8427007929],
      1e-9,
    );
  });

  for (const c of cases) {
    it(`${c.name}: logits equal the float64 reference, for images and flat samples`, async () => {
      const dir = await writeVitCase(c);
      const model = await hfImageClassifierFamily.load(dir);
      try {
        assert.equal(model.family, 'hf-image-classifier');
        assert.equal(builtinFamilyLookup.family('hf-image-classifier'), hfImageClassifierFamily);
        assert.equal(await hfImageClassifierFamily.recognizes(dir), true);
        const images = randomImages(c.ref, 3, 10);
        const ref = refVit(c.ref, c.weights, images).logits;
        const S = c.ref.image;
        const before = tf.memory().numTensors;
        const hwc = logitsOf(model, images, [S, S, c.ref.channels]);
        const flat = logitsOf(model, images, [S * S * c.ref.channels]);
        assert.equal(tf.memory().numTensors, before, 'no tensor leaks');
        expectArraysClose(hwc, ref, { atol: 1e-5, rtol: 1e-5 }, 'logits');
        assert.deepEqual(flat, hwc, 'flat samples are the same images');
        // The logits are not trivially small: the comparison means something.
        assert.ok(Math.max(...ref.map(Math.abs)) > 0.5, `logits scale ${Math.max(...ref)}`);
      } finally {
        model.dispose();
      }
    });
  }

  it('lists the encoder projections as operators grouped by block, in forward order', async () => {
    const dir = await writeVitCase(cases[0]!);
    const model = await hfImageClassifierFamily.load(dir);
    const withAll = await hfImageClassifierFamily.load(dir, {
      includePatchEmbedding: true,
      includeClassifier: true,
    });
    try {
      const names = model.operators.map((o) => o.name);
      const want: string[] = [];
      for (let i = 0; i < 2; i++) {
        const L = `vit.encoder.layer.${i}`;
        want.push(
          `${L}.attention.attention.query`,
          `${L}.attention.attention.key`,
          `${L}.attention.attention.value`,
          `${L}.attention.output.dense`,
          `${L}.intermediate.dense`,
          `${L}.output.dense`,
        );
      }
      assert.deepEqual(names, want);
      assert.deepEqual(
        model.operators.map((o) => o.block),
        want.map((n) => n.split('.').slice(0, 4).join('.')),
      );
      const inter = model.operators[4]!;
      assert.deepEqual([inter.fanIn, inter.units], [16, 24]);
      assert.deepEqual(
        withAll.operators.map((o) => o.name),
        ['vit.embeddings.patch_embeddings.projection', ...want, 'classifier'],
      );
      const patch = withAll.operators[0]!;
      assert.deepEqual([patch.fanIn, patch.units], [3 * 4 * 4, 16]);
      // The [fanIn, units] view of the Conv2d weight [H, C, P, P]: W[(c·P + y)·P + x, h].
      const w = withAll.readWeight(patch.name);
      const stored = c0Weights('vit.embeddings.patch_embeddings.projection.weight');
      for (const [h, ch, y, x] of [
        [0, 0, 0, 0],
        [5, 2, 3, 1],
        [15, 1, 2, 3],
      ] as const) {
        assert.equal(w[((ch * 4 + y) * 4 + x) * 16 + h], stored[((h * 3 + ch) * 4 + y) * 4 + x]);
      }
    } finally {
      model.dispose();
      withAll.dispose();
    }
  });
});

function c0Weights(name: string): Float32Array {
  return cases[0]!.weights.get(name) as Float32Array;
}
