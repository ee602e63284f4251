// Saving streams each tensor from its variable instead of copying the whole model first: the
// bytes must be those of the in-memory writer for the weights the test wrote (writeSafetensors,
// whose layout the safetensors tests check against the Python library's), and writeCheckpoint
// must shard streamed tensors (sized from shape and dtype, values made once each, in file order)
// into exactly the files it writes for the same tensors in memory.
import { strict as assert } from 'node:assert';
import { promises as fs } from 'node:fs';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { initBackend } from '../../../src/models/backend.js';
import { HfCausalLmModel } from '../../../src/models/hf/causal-lm-model.js';
import { writeCheckpoint } from '../../../src/models/hf/checkpoint-dir.js';
import { hfCausalLmFamily } from '../../../src/models/hf/family.js';
import { saveHfCheckpoint } from '../../../src/models/hf/save-checkpoint.js';
import { writeSafetensors, type TensorToWrite } from '../../../src/models/hf/safetensors.js';
import { tempDir } from '../../helpers/paths.js';
import { gpt2Case, llamaCase, writeCase } from './fixtures.js';

describe('hf-causal-lm family: streamed save', function () {
  this.timeout(30_000);
  before(async () => {
    await initBackend('wasm');
  });

  for (const c of [gpt2Case, llamaCase]) {
    it(`${c.name}: writes the bytes of the in-memory writer for the weights written`, async () => {
      const source = await writeCase(c);
      const before = tf.memory().numTensors;
      const model = await hfCausalLmFamily.load(source);
      const dir = tempDir('scalpel-hf-streamed-');
      try {
        assert.ok(model instanceof HfCausalLmModel);
        await saveHfCheckpoint(model, dir);
      } finally {
        model.dispose();
      }
      assert.equal(tf.memory().numTensors, before, 'no tensors leak');
      const expected: TensorToWrite[] = [...c.weights].map(([name, data]) => ({
        name,
        shape: c.shapes.get(name) ?? [],
        data,
        dtype: c.dtype,
      }));
      const reference = join(tempDir(), 'model.safetensors');
      await writeSafetensors(reference, expected, { format: 'pt' });
      const got = await fs.readFile(join(dir, 'model.safetensors'));
      assert.ok(got.equals(await fs.readFile(reference)), 'byte for byte');
    });
  }

  it('shards streamed tensors into the files it writes for the same tensors in memory', async () => {
    const tensors = [...gpt2Case.weights].map(([name, data]) => ({
      name,
      shape: gpt2Case.shapes.get(name) ?? [],
      data,
    }));
    const made: string[] = [];
    const streamed = tensors.map(({ data, ...rest }) => ({
      ...rest,
      values: () => {
        made.push(rest.name);
        return data;
      },
    }));
    const config = { model_type: 'gpt2' };
    const [whole, lazy] = [tempDir(), tempDir()];
    const shardBytes = 16_000;
    const a = await writeCheckpoint(whole, { config, tensors, shardBytes });
    const b = await writeCheckpoint(lazy, { config, tensors: streamed, shardBytes });
    const names = (files: string[]): string[] => files.map((f) => f.slice(f.lastIndexOf('/') + 1));
    assert.deepEqual(names(b), names(a));
    assert.ok(names(a).length > 3, `sharded: ${names(a).join(', ')}`);
    for (const name of names(a)) {
      const [x, y] = [await fs.readFile(join(whole, name)), await fs.readFile(join(lazy, name))];
      assert.ok(x.equals(y), name);
    }
    // Each tensor made exactly once, shard by shard in name order (all F32: file order is name order).
    const byName = [...tensors.map((t) => t.name)].sort((p, q) =>
      Buffer.compare(Buffer.from(p), Buffer.from(q)),
    );
    assert.deepEqual(made, byName);
  });
});
