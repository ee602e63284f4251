// The hf-causal-lm family loading checkpoints from disk: what it recognizes, the files it lists
// for the fingerprint, and models whose logits equal, bit for bit, those of an HfCausalLmModel
// built directly from the weights the test wrote (BF16: rounded by the test) and, within float32
// error, the float64 reference forward. Files that are not the checkpoint's are ignored.
import { strict as assert } from 'node:assert';
import { promises as fs } from 'node:fs';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { initBackend } from '../../../src/models/backend.js';
import { HfCausalLmModel } from '../../../src/models/hf/causal-lm-model.js';
import { hfCausalLmFamily } from '../../../src/models/hf/family.js';
import { parseHfConfig } from '../../../src/models/hf/hf-config.js';
import { tempDir } from '../../helpers/paths.js';
import { randomIds } from '../hf-forward/checkpoints.js';
import { assertClose } from '../hf-forward/harness.js';
import { gpt2Case, llamaCase, logitsOf, writeCase } from './fixtures.js';

describe('hf-causal-lm family: loading checkpoints', function () {
  this.timeout(30_000);
  before(async () => {
    await initBackend('wasm');
  });

  it('recognizes a directory with config.json, nothing else', async () => {
    const dir = await writeCase(gpt2Case);
    assert.equal(await hfCausalLmFamily.recognizes(dir), true);
    assert.equal(await hfCausalLmFamily.recognizes(join(dir, 'config.json')), false);
    assert.equal(await hfCausalLmFamily.recognizes(tempDir()), false);
    assert.equal(await hfCausalLmFamily.recognizes(join(dir, 'missing')), false);
  });

  it('lists config, index, every shard and the tokenizer files for the fingerprint', async () => {
    const dir = await writeCase(gpt2Case);
    await fs.writeFile(join(dir, 'masks.json'), 'not a checkpoint file');
    await fs.writeFile(join(dir, 'README.md'), 'neither');
    const { files } = await hfCausalLmFamily.inspect(dir, 'models/gpt2');
    const shards = (await fs.readdir(dir)).filter((f) =>
      /^model-\d{5}-of-\d{5}\.safetensors$/.test(f),
    );
    assert.ok(shards.length >= 2, `sharded: ${shards.join(', ')}`);
    assert.equal(files[0], join(dir, 'config.json'), 'config.json first');
    assert.deepEqual(
      [...files].sort(),
      ['config.json', 'model.safetensors.index.json', ...shards, ...gpt2Case.tokenizer.keys()]
        .map((f) => join(dir, f))
        .sort(),
    );
  });

  for (const c of [gpt2Case, llamaCase]) {
    it(`${c.name}: logits equal a model built directly from the written weights`, async () => {
      const dir = await writeCase(c);
      // scalpel's own files in the directory are not part of the checkpoint
      await fs.writeFile(join(dir, 'masks.json'), '{ corrupt');
      await fs.writeFile(join(dir, 'masks.bin'), Buffer.from([1, 2, 3]));
      const before = tf.memory().numTensors;
      const loaded = await hfCausalLmFamily.load(dir);
      const direct = new HfCausalLmModel(parseHfConfig(c.json), c.weights);
      try {
        assert.equal(loaded.family, 'hf-causal-lm');
        assert.deepEqual(
          loaded.operators.map((o) => o.name),
          c.operators,
        );
        assert.equal(loaded.masks.size, 0);
        const ids = randomIds(21, 3, 7);
        const got = logitsOf(loaded, ids);
        assert.deepEqual(got, logitsOf(direct, ids), 'bit for bit');
        assertClose(got, c.reference(c.weights, ids).logits, 1e-4, 'float64 reference');
        assert.ok(loaded instanceof HfCausalLmModel);
        for (const [name, values] of loaded.tensors())
          assert.deepEqual(values, c.weights.get(name), name);
      } finally {
        loaded.dispose();
        direct.dispose();
      }
      assert.equal(tf.memory().numTensors, before, 'no tensors leak');
    });
  }

  it('includeLmHead makes the untied lm_head an operator; bad options are E_RECIPE_SCHEMA', async () => {
    const dir = await writeCase(llamaCase);
    const model = await hfCausalLmFamily.load(dir, { includeLmHead: true });
    try {
      assert.deepEqual(
        model.operators.map((o) => o.name),
        [...llamaCase.operators, 'lm_head'],
      );
      assert.deepEqual(model.operators.at(-1)?.kernelShape, [16, 50]);
    } finally {
      model.dispose();
    }
    await assert.rejects(hfCausalLmFamily.load(dir, { includeLmHead: 'yes' }), {
      code: 'E_RECIPE_SCHEMA',
    });
  });
});
