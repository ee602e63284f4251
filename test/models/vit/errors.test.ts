// What a user can get wrong with a ViT/DeiT checkpoint or its data, each a located ScalpelError:
// unsupported config.json fields (naming the file and the field), missing and mis-shaped tensors
// (naming the tensor, found from the safetensors headers by inspect and load alike), images whose
// size does not fit image_size / num_channels, and bad family options.
import assert from 'node:assert/strict';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { isScalpelError, type ScalpelError } from '../../../src/errors.js';
import { initBackend } from '../../../src/models/backend.js';
import { hfCausalLmFamily } from '../../../src/models/hf/family.js';
import { hfImageClassifierFamily } from '../../../src/models/hf/image-family.js';
import { parseVitConfig } from '../../../src/models/hf/vit-config.js';
import type { DatasetSplit } from '../../../src/plugin-api/dataset.js';
import { vitCase, vitRef, writeVitCase } from './fixtures.js';

const c = vitCase('ViT', vitRef, 7);

async function rejected(p: Promise<unknown>): Promise<ScalpelError> {
  try {
    await p;
  } catch (e) {
    assert.ok(isScalpelError(e), String(e));
    return e;
  }
  return assert.fail('expected a ScalpelError');
}

function thrown(f: () => unknown): ScalpelError {
  try {
    f();
  } catch (e) {
    assert.ok(isScalpelError(e), String(e));
    return e;
  }
  return assert.fail('expected a ScalpelError');
}

describe('hf-image-classifier: errors a user can cause', () => {
  before(async () => {
    await initBackend('wasm');
  });

  it('an unsupported model_type, head, activation or patch size names config.json and the field', async () => {
    const dir = await writeVitCase(c, (json) => {
      json.model_type = 'swin';
      json.architectures = ['SwinForImageClassification'];
    });
    const e = await rejected(hfImageClassifierFamily.load(dir));
    assert.equal(e.code, 'E_DATA');
    assert.equal(e.location?.file, join(dir, 'config.json'));
    assert.match(e.message, /model_type "swin".* not an image classifier/);
    assert.match(e.hint ?? '', /ViTForImageClassification/);

    const cases: [Record<string, unknown>, RegExp][] = [
      [
        { architectures: ['ViTForMaskedImageModeling'] },
        /architectures .* no image classification head/,
      ],
      [{ hidden_act: 'relu' }, /hidden_act "relu" is not supported/],
      [{ patch_size: 3 }, /image_size 8×8 is not a multiple of patch_size 3/],
      [{ hidden_size: 15 }, /hidden_size 15 is not divisible by num_attention_heads 2/],
      [{ problem_type: 'multi_label_classification' }, /problem_type .* not supported/],
      [{ num_labels: 5 }, /'num_labels' 5 disagrees with the 3 entries of 'id2label'/],
    ];
    for (const [edit, message] of cases) {
      const err = thrown(() => parseVitConfig({ ...c.json, ...edit }, 'some/config.json'));
      assert.equal(err.code, 'E_DATA', JSON.stringify(edit));
      assert.equal(err.location?.file, 'some/config.json');
      assert.match(err.message, message);
      assert.ok((err.hint ?? '').length > 0, 'a hint');
    }
    for (const notAnObject of [null, [1], 'vit'])
      assert.match(
        thrown(() => parseVitConfig(notAnObject, 'some/config.json')).message,
        /some\/config\.json: a Hugging Face config must be a JSON object/,
      );
  });

  it('a missing or mis-shaped tensor is E_DATA naming it, at inspect and at load', async () => {
    const gone = 'vit.encoder.layer.1.intermediate.dense.weight';
    const missing = await writeVitCase(c, (_json, tensors) => {
      tensors.delete(gone);
    });
    const wrong = 'vit.encoder.layer.0.output.dense.weight';
    const transposed = await writeVitCase(c, (_json, tensors) => {
      const t = tensors.get(wrong)!;
      tensors.set(wrong, { shape: [24, 16], data: t.data });
    });
    for (const [dir, name, message] of [
      [
        missing,
        gone,
        /has no tensor 'vit\.encoder\.layer\.1\.intermediate\.dense\.weight'.*\[24, 16\]/,
      ],
      [
        transposed,
        wrong,
        /'vit\.encoder\.layer\.0\.output\.dense\.weight' .* shape \[24, 16\]; config\.json implies \[16, 24\]/,
      ],
    ] as const) {
      const before = tf.memory().numTensors;
      for (const e of [
        await rejected(hfImageClassifierFamily.inspect(dir, 'my-vit')),
        await rejected(hfImageClassifierFamily.load(dir)),
      ]) {
        assert.equal(e.code, 'E_DATA');
        assert.equal(e.layer, name);
        assert.match(e.message, message);
      }
      assert.equal(tf.memory().numTensors, before, 'a failed load leaks nothing');
    }
    const e = await rejected(hfImageClassifierFamily.inspect(missing, 'my-vit'));
    assert.match(e.message, /checkpoint my-vit/, 'inspect names the path as the user wrote it');
  });

  it('a dataset whose images do not fit image_size / num_channels is refused, naming both', async () => {
    const dir = await writeVitCase(c);
    const model = await hfImageClassifierFamily.load(dir);
    try {
      const split = (sampleShape: number[]): DatasetSplit => ({
        name: 'train',
        count: 0,
        sampleShape,
        x: new Float32Array(0),
        y: new Int32Array(0),
        ids: new Int32Array(0),
      });
      const dataset = { source: 'test', numClasses: 3, splits: new Map() };
      // Images [8, 8, 3] and flat [192] fit.
      model.task.checkData(dataset, split([8, 8, 3]), "stage 'train'");
      model.task.checkData(dataset, split([192]), "stage 'train'");
      for (const shape of [[28, 28, 1], [8, 8, 1], [64], [3, 8, 8]]) {
        const e = thrown(() => model.task.checkData(dataset, split(shape), "stage 'train'"));
        assert.equal(e.code, 'E_STAGE');
        assert.match(e.message, /stage 'train': the model takes 8×8 images with 3 channels/);
        assert.ok(e.message.includes(join(dir, 'config.json')), e.message);
        assert.ok(e.message.includes(`[${shape.join(', ')}]`), e.message);
      }
      const tooMany = thrown(() =>
        model.task.checkData({ ...dataset, numClasses: 10 }, split([8, 8, 3]), "stage 'x'"),
      );
      assert.match(tooMany.message, /3 outputs but the dataset has 10 classes/);
      const bad = thrown(() => tf.tidy(() => model.forward(tf.zeros([2, 8, 8, 1])).output));
      assert.equal(bad.code, 'E_DATA');
      assert.match(bad.message, /takes images \[batch, 8, 8, 3\].*got shape \[2, 8, 8, 1\]/);
    } finally {
      model.dispose();
    }
  });

  it('recognizes its own directories only; bad options are E_RECIPE_SCHEMA', async () => {
    const dir = await writeVitCase(c);
    assert.equal(await hfImageClassifierFamily.recognizes(dir), true);
    assert.equal(await hfCausalLmFamily.recognizes(dir), false, 'hf-causal-lm leaves it alone');
    const e = await rejected(hfImageClassifierFamily.load(dir, { includeLmHead: true }));
    assert.equal(e.code, 'E_RECIPE_SCHEMA');
    assert.match(e.message, /includePatchEmbedding/);
  });
});
