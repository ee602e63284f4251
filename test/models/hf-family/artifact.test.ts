// The model artifact of an hf-causal-lm model (family.save + masks, read back through the family):
// masks and logits survive bit for bit, the weights keep the dtype they were loaded in, config.json
// keeps its other fields, tokenizer files are copied byte for byte, and a model built in code
// (no checkpoint behind it) gets a config.json that parses back to its config.
import { strict as assert } from 'node:assert';
import { promises as fs } from 'node:fs';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { initBackend } from '../../../src/models/backend.js';
import { builtinFamilyLookup } from '../../../src/models/families.js';
import { HfCausalLmModel } from '../../../src/models/hf/causal-lm-model.js';
import { hfCausalLmFamily } from '../../../src/models/hf/family.js';
import { parseHfConfig } from '../../../src/models/hf/hf-config.js';
import { readModelArtifact, writeModelArtifact } from '../../../src/models/model-artifact.js';
import type { PrunableModel } from '../../../src/plugin-api/model.js';
import { Rng } from '../../../src/util/rng.js';
import { tempDir } from '../../helpers/paths.js';
import { gpt2Json, gpt2Weights, randomIds } from '../hf-forward/checkpoints.js';
import { gpt2Case, llamaCase, logitsOf, storedDtypes, writeCase } from './fixtures.js';

/** Random keep-masks on every operator, applied to the weights; returns them. */
function pruneRandomly(model: PrunableModel, seed: number): Map<string, Uint8Array> {
  const rng = new Rng(seed);
  const masks = new Map<string, Uint8Array>();
  for (const op of model.operators) {
    const mask = Uint8Array.from({ length: op.paramCount }, () => (rng.float() < 0.4 ? 0 : 1));
    const w = model.readWeight(op.name);
    for (let i = 0; i < w.length; i++) if (mask[i] === 0) w[i] = 0;
    model.writeWeight(op.name, w);
    model.masks.set(op.name, mask);
    masks.set(op.name, mask);
  }
  return masks;
}

async function readJson(path: string): Promise<Record<string, unknown>> {
  return JSON.parse(await fs.readFile(path, 'utf8')) as Record<string, unknown>;
}

describe('hf-causal-lm family: the model artifact', function () {
  this.timeout(30_000);
  before(async () => {
    await initBackend('wasm');
  });

  it('GPT-2 (F32, sharded): masks, weights and logits survive; tokenizer files byte for byte', async () => {
    const model = await hfCausalLmFamily.load(await writeCase(gpt2Case));
    const dir = tempDir('scalpel-hf-artifact-');
    try {
      const masks = pruneRandomly(model, 1);
      const manifest = await writeModelArtifact(dir, model, builtinFamilyLookup);
      assert.equal(manifest.family, 'hf-causal-lm');
      assert.equal(manifest.modelJson, '.');
      assert.deepEqual(
        (await fs.readdir(dir)).sort(),
        [
          'config.json',
          'masks.bin',
          'masks.json',
          'model.safetensors',
          ...gpt2Case.tokenizer.keys(),
        ].sort(),
      );
      for (const [name, bytes] of gpt2Case.tokenizer)
        assert.deepEqual(new Uint8Array(await fs.readFile(join(dir, name))), bytes, name);
      assert.deepEqual(
        [...new Set((await storedDtypes(join(dir, 'model.safetensors'))).values())],
        ['F32'],
      );
      const back = await readModelArtifact({ dir, manifest }, builtinFamilyLookup);
      try {
        for (const [name, mask] of masks) assert.deepEqual(back.masks.get(name), mask, name);
        const ids = randomIds(5, 2, 8);
        assert.deepEqual(logitsOf(back, ids), logitsOf(model, ids));
        // the pruned weights are exact zeros in the file
        const op = model.operators[0];
        assert.ok(op !== undefined);
        const w = back.readWeight(op.name);
        masks.get(op.name)?.forEach((m, i) => m === 0 && assert.ok(Object.is(w[i], 0)));
      } finally {
        back.dispose();
      }
    } finally {
      model.dispose();
    }
  });

  it('Llama (BF16, lm_head prunable): stays BF16, keeps config fields and the lm_head operator', async () => {
    const model = await hfCausalLmFamily.load(await writeCase(llamaCase), { includeLmHead: true });
    const dir = tempDir('scalpel-hf-artifact-');
    try {
      const masks = pruneRandomly(model, 2);
      assert.ok(masks.has('lm_head'));
      const manifest = await writeModelArtifact(dir, model, builtinFamilyLookup);
      const dtypes = await storedDtypes(join(dir, 'model.safetensors'));
      assert.equal(dtypes.size, llamaCase.weights.size);
      assert.deepEqual([...new Set(dtypes.values())], ['BF16']);
      const config = await readJson(join(dir, 'config.json'));
      assert.equal(config.torch_dtype, 'bfloat16');
      assert.equal(config.bos_token_id, 1, 'fields scalpel does not read are kept');
      const back = await readModelArtifact({ dir, manifest }, builtinFamilyLookup);
      try {
        assert.deepEqual(back.operators, model.operators);
        for (const [name, mask] of masks) assert.deepEqual(back.masks.get(name), mask, name);
        const ids = randomIds(6, 2, 8);
        assert.deepEqual(
          logitsOf(back, ids),
          logitsOf(model, ids),
          'BF16 values and zeros are exact',
        );
      } finally {
        back.dispose();
      }
      // the same directory loaded as a plain checkpoint: the default operators
      const plain = await hfCausalLmFamily.load(dir);
      assert.deepEqual(
        plain.operators.map((o) => o.name),
        llamaCase.operators,
      );
      plain.dispose();
    } finally {
      model.dispose();
    }
  });

  it('a model built in code saves a config.json that parses back to its config, in F32', async () => {
    const config = parseHfConfig(gpt2Json);
    const model = new HfCausalLmModel(config, gpt2Weights(3));
    const dir = tempDir('scalpel-hf-artifact-');
    try {
      const before = tf.memory().numTensors;
      await hfCausalLmFamily.save(model, dir);
      assert.deepEqual(parseHfConfig(await readJson(join(dir, 'config.json'))), config);
      assert.deepEqual(
        [...new Set((await storedDtypes(join(dir, 'model.safetensors'))).values())],
        ['F32'],
      );
      const back = await hfCausalLmFamily.load(dir);
      const ids = randomIds(7, 2, 5);
      assert.deepEqual(logitsOf(back, ids), logitsOf(model, ids));
      back.dispose();
      assert.equal(tf.memory().numTensors, before);
      // a second save into the same directory would mix two checkpoints
      await assert.rejects(hfCausalLmFamily.save(model, dir), {
        code: 'E_IO',
        message: /already holds /,
      });
    } finally {
      model.dispose();
    }
  });
});
