// inspect (what validate and plan run, through load-model's fingerprint) on broken checkpoints:
// a missing, a mis-shaped (transposed) and an unexpected tensor, a non-float tensor and an
// unsupported model_type are E_DATA naming the tensor or the field, from the headers alone (no
// tensor is created); load refuses the same checkpoints the same way.
import { strict as assert } from 'node:assert';
import { promises as fs } from 'node:fs';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { isScalpelError } from '../../../src/errors.js';
import { initBackend } from '../../../src/models/backend.js';
import { hfCausalLmFamily } from '../../../src/models/hf/family.js';
import { loadModelStage } from '../../../src/stages/load-model.js';
import { makeStageContext } from '../../helpers/stage-context.js';
import { assemble, i64Bytes } from '../hf/safetensors-bytes.js';
import { gpt2Case, llamaCase, writeCase } from './fixtures.js';

interface Expected {
  message: RegExp;
  layer?: string;
  /** What the load-model fingerprint and load say, when it is not `message` (they name the full path). */
  loaded?: RegExp;
}

async function expectDataError(p: Promise<unknown>, want: Expected): Promise<void> {
  await assert.rejects(p, (e: unknown) => {
    assert.ok(isScalpelError(e), String(e));
    assert.equal(e.code, 'E_DATA', e.message);
    assert.match(e.message, want.message);
    if (want.layer !== undefined) assert.equal(e.layer, want.layer);
    assert.ok((e.hint ?? '').length > 0, 'has a hint');
    return true;
  });
}

describe('hf-causal-lm family: inspect and load reject broken checkpoints', function () {
  this.timeout(30_000);
  before(async () => {
    await initBackend('wasm');
  });

  const cFc = 'transformer.h.1.mlp.c_fc.weight';
  const cases: { what: string; dir: () => Promise<string>; want: Expected }[] = [
    {
      what: 'a missing tensor',
      dir: () => writeCase(llamaCase, (t) => t.delete('model.layers.1.mlp.up_proj.weight')),
      want: {
        message:
          /no tensor 'model\.layers\.1\.mlp\.up_proj\.weight' \(config\.json implies shape \[24, 16\]\)/,
        layer: 'model.layers.1.mlp.up_proj.weight',
      },
    },
    {
      what: 'a transposed tensor (same size, wrong shape)',
      dir: () =>
        writeCase(gpt2Case, (t) => {
          const w = t.get(cFc);
          if (w !== undefined) t.set(cFc, { shape: [64, 16], data: w.data });
        }),
      want: {
        message:
          /tensor 'transformer\.h\.1\.mlp\.c_fc\.weight' .* has shape \[64, 16\]; config\.json implies \[16, 64\]/,
        layer: cFc,
      },
    },
    {
      what: 'an unexpected tensor',
      dir: () =>
        writeCase(gpt2Case, (t) =>
          t.set('transformer.h.2.ln_1.weight', { shape: [16], data: new Float32Array(16) }),
        ),
      want: {
        message: /unexpected tensor 'transformer\.h\.2\.ln_1\.weight'/,
        layer: 'transformer.h.2.ln_1.weight',
      },
    },
    {
      what: 'an unsupported model_type',
      dir: () => writeCase(gpt2Case, undefined, { ...gpt2Case.json, model_type: 'bert' }),
      want: {
        message: /models\/ckpt\/config\.json: model_type "bert"/,
        loaded: /model_type "bert"/,
      },
    },
    {
      what: 'a config.json that is not an object',
      dir: () => writeCase(gpt2Case, undefined, [] as unknown as typeof gpt2Case.json),
      want: {
        message: /config\.json is not a JSON object/,
        loaded: /model\/config\.json is not a JSON object/,
      },
    },
  ];

  for (const c of cases) {
    it(`${c.what}: E_DATA from inspect, the load-model fingerprint and load`, async () => {
      const dir = await c.dir();
      const before = tf.memory().numTensors;
      await expectDataError(hfCausalLmFamily.inspect(dir, 'models/ckpt'), c.want);
      assert.equal(tf.memory().numTensors, before, 'inspect creates no tensors');
      // validate/plan: load-model's fingerprint inspects the auto-detected family
      const ctx = makeStageContext(loadModelStage, { path: dir });
      await expectDataError(Promise.resolve(loadModelStage.fingerprint?.(ctx.params, ctx)), {
        ...c.want,
        message: c.want.loaded ?? c.want.message,
      });
      await expectDataError(hfCausalLmFamily.load(dir), {
        ...c.want,
        message: c.want.loaded ?? c.want.message,
      });
      assert.equal(tf.memory().numTensors, before, 'a refused load leaks no tensors');
    });
  }

  it('a non-float tensor is E_DATA naming it', async () => {
    // one shard per tensor, then one shard replaced by an I64 tensor of the same shape, by hand
    const dir = await writeCase({ ...gpt2Case, shardBytes: 1 });
    const index = JSON.parse(
      await fs.readFile(join(dir, 'model.safetensors.index.json'), 'utf8'),
    ) as { weight_map: Record<string, string> };
    const name = 'transformer.ln_f.bias';
    const shard = index.weight_map[name] as string;
    const header = JSON.stringify({
      [name]: { dtype: 'I64', shape: [16], data_offsets: [0, 128] },
    });
    await fs.writeFile(
      join(dir, shard),
      assemble(header, i64Bytes(Array.from({ length: 16 }, () => 1n))),
    );
    await expectDataError(hfCausalLmFamily.inspect(dir, 'ckpt'), {
      message: /tensor 'transformer\.ln_f\.bias' in checkpoint ckpt has dtype I64/,
      layer: name,
    });
  });

  it('a directory without weights or config is E_IO', async () => {
    const dir = await writeCase(gpt2Case);
    await fs.rm(join(dir, 'model.safetensors.index.json'));
    await assert.rejects(hfCausalLmFamily.inspect(dir), { code: 'E_IO' });
  });
});
