// Loading streams: every tensor's bytes are read from disk exactly once (per-name read counts and
// the reader's bytesRead against the sizes computed here from the stored shapes and dtypes), each
// read happens only after the variables of the tensors read before it exist (read straight into
// the new tensor's storage: no float32 copy at all), and the logits are bit for bit those of a model built from a Map of the same tensors
// read the old way (async read of every tensor first).
import { strict as assert } from 'node:assert';
import * as tf from '@tensorflow/tfjs-core';
import { isScalpelError } from '../../../src/errors.js';
import { initBackend } from '../../../src/models/backend.js';
import { HfCausalLmModel } from '../../../src/models/hf/causal-lm-model.js';
import { openCheckpoint } from '../../../src/models/hf/checkpoint-dir.js';
import { CheckpointWeights } from '../../../src/models/hf/checkpoint-weights.js';
import { hfCausalLmFamily } from '../../../src/models/hf/family.js';
import { parseHfConfig } from '../../../src/models/hf/hf-config.js';
import { randomIds } from '../hf-forward/checkpoints.js';
import { gpt2Case, llamaCase, logitsOf, writeCase, type CheckpointCase } from './fixtures.js';

const bytesPer = { F32: 4, BF16: 2, F16: 2 } as const;

/** GPT-2 with the tied lm_head copy stored, as some exporters write it. */
async function writeWithTiedCopy(c: CheckpointCase, copy?: Float32Array): Promise<string> {
  return writeCase(c, (tensors) => {
    const wte = tensors.get('transformer.wte.weight');
    assert.ok(wte !== undefined);
    tensors.set('lm_head.weight', { shape: wte.shape, data: copy ?? Float32Array.from(wte.data) });
  });
}

describe('hf-causal-lm family: streaming load', function () {
  this.timeout(30_000);
  before(async () => {
    await initBackend('wasm');
  });

  const cases: [string, CheckpointCase, (c: CheckpointCase) => Promise<string>][] = [
    ['GPT-2 with a stored tied lm_head copy (F32, sharded)', gpt2Case, writeWithTiedCopy],
    ['Llama (BF16)', llamaCase, (c) => writeCase(c)],
  ];
  for (const [title, c, write] of cases) {
    it(`${title}: each tensor read once, interleaved with the variables; logits unchanged`, async () => {
      const dir = await write(c);
      const config = parseHfConfig(c.json);
      const ck = await openCheckpoint(dir);
      const old = await openCheckpoint(dir);
      const before = tf.memory().numTensors;
      const names = ck.tensorNames();
      const reads = new Map<string, number>();
      const tiedCopy = 'lm_head.weight';
      const storedCopy = c === gpt2Case;
      let plainReads = 0;
      // `filling`: the read lands in the new tensor's own storage, which exists already.
      const count = (name: string, filling: boolean): void => {
        reads.set(name, (reads.get(name) ?? 0) + 1);
        if (!(storedCopy && name === tiedCopy)) {
          // the variables of every tensor read before this one exist already
          assert.equal(
            tf.memory().numTensors - before,
            plainReads + (filling ? 1 : 0),
            `variables before ${name}`,
          );
          plainReads++;
        }
      };
      const counting = {
        readSync: (name: string): Float32Array => {
          count(name, false);
          return ck.readSync(name);
        },
        readIntoSync: (name: string, dst: Float32Array): void => {
          count(name, true);
          ck.readIntoSync(name, dst);
        },
      };
      const shapes = new Map(names.map((n) => [n, ck.shapeOf(n)]));
      const streamed = new HfCausalLmModel(config, new CheckpointWeights(counting, names), {
        shapes,
      });
      const oldWeights = new Map<string, Float32Array>();
      for (const name of names) oldWeights.set(name, await old.read(name));
      const fromMap = new HfCausalLmModel(config, oldWeights, { shapes });
      try {
        assert.deepEqual(
          [...reads].filter(([, n]) => n !== 1),
          [],
          'no tensor read twice',
        );
        assert.deepEqual([...reads.keys()].sort(), [...names].sort(), 'every tensor read');
        let expectedBytes = 0;
        for (const name of names) {
          const dtype = ck.dtypeOf(name) as keyof typeof bytesPer;
          expectedBytes += ck.shapeOf(name).reduce((a, b) => a * b, 1) * bytesPer[dtype];
        }
        assert.equal(ck.bytesRead, expectedBytes, 'bytes read: the data once');
        const ids = randomIds(31, 2, 9);
        assert.deepEqual(logitsOf(streamed, ids), logitsOf(fromMap, ids), 'bit for bit');
        const loaded = await hfCausalLmFamily.load(dir);
        try {
          assert.ok(loaded instanceof HfCausalLmModel);
          assert.deepEqual(logitsOf(loaded, ids), logitsOf(fromMap, ids), 'load: bit for bit');
          assert.equal(loaded.tensors().has(tiedCopy), c.weights.has(tiedCopy) || storedCopy);
        } finally {
          loaded.dispose();
        }
      } finally {
        streamed.dispose();
        fromMap.dispose();
        await ck.close();
        await old.close();
      }
      assert.equal(tf.memory().numTensors, before, 'no tensors leak');
    });
  }

  it('a stored tied copy that differs from the embedding is E_DATA, nothing leaks', async () => {
    const wte = gpt2Case.weights.get('transformer.wte.weight');
    assert.ok(wte !== undefined);
    const copy = Float32Array.from(wte);
    copy[copy.length - 1] = (copy[copy.length - 1] as number) + 1;
    const dir = await writeWithTiedCopy(gpt2Case, copy);
    const before = tf.memory().numTensors;
    await assert.rejects(hfCausalLmFamily.load(dir), (e: unknown) => {
      assert.ok(isScalpelError(e));
      assert.equal(e.code, 'E_DATA');
      assert.match(e.message, /'lm_head\.weight' differs from 'transformer\.wte\.weight'/);
      return true;
    });
    assert.equal(tf.memory().numTensors, before, 'no tensors leak');
  });
});
