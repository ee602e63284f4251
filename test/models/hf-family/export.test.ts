// The export stage on hf-causal-lm models and load-model on Hugging Face directories, run as the
// engine runs them (runStage): format hf writes a checkpoint directory that load-model (format
// auto-detected) reads back with identical logits — F32 bit for bit, BF16 as the weights rounded
// by the test — plus masks, sparsity.json (checked against the masks) and the tokenizer files
// byte for byte; wrong format/sparse/dtype combinations are E_STAGE before anything is written;
// publishing removes a previous HF export's files but never a user's tokenizer.json.
import { strict as assert } from 'node:assert';
import { promises as fs } from 'node:fs';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { initBackend } from '../../../src/models/backend.js';
import { builtinFamilyLookup } from '../../../src/models/families.js';
import { HfCausalLmModel } from '../../../src/models/hf/causal-lm-model.js';
import { hfCausalLmFamily } from '../../../src/models/hf/family.js';
import { parseHfConfig } from '../../../src/models/hf/hf-config.js';
import { readMasks } from '../../../src/models/mask-files.js';
import { readModelArtifact, writeModelArtifact } from '../../../src/models/model-artifact.js';
import type { SparsityManifest } from '../../../src/models/sparsity-manifest.js';
import type { PrunableModel } from '../../../src/plugin-api/model.js';
import type { Artifact } from '../../../src/plugin-api/stage.js';
import { exportStage } from '../../../src/stages/export.js';
import { loadModelStage } from '../../../src/stages/load-model.js';
import { Rng } from '../../../src/util/rng.js';
import { tempDir } from '../../helpers/paths.js';
import { artifactFrom, runStage } from '../../helpers/stage-context.js';
import { makeModel, modelArtifact } from '../../stages/fixtures.js';
import { randomIds } from '../hf-forward/checkpoints.js';
import { assertClose } from '../hf-forward/harness.js';
import {
  gpt2Case,
  llamaCase,
  logitsOf,
  roundedToBf16,
  storedDtypes,
  writeCase,
  type CheckpointCase,
} from './fixtures.js';

/** A checkpoint run through load-model (auto-detected family) into a model artifact. */
async function loadedArtifact(dir: string): Promise<Artifact> {
  const { artifact } = await runStage(loadModelStage, { path: dir });
  return artifact;
}

/** The model artifact of `c` loaded from disk, pruned by a random mask on every operator. */
async function prunedArtifact(
  c: CheckpointCase,
): Promise<{ artifact: Artifact; masks: Map<string, Uint8Array> }> {
  const model = await hfCausalLmFamily.load(await writeCase(c));
  const rng = new Rng(8);
  const masks = new Map<string, Uint8Array>();
  for (const op of model.operators) {
    const mask = Uint8Array.from({ length: op.paramCount }, () => (rng.float() < 0.5 ? 0 : 1));
    const w = model.readWeight(op.name);
    for (let i = 0; i < w.length; i++) if (mask[i] === 0) w[i] = 0;
    model.writeWeight(op.name, w);
    model.masks.set(op.name, mask);
    masks.set(op.name, mask);
  }
  const dir = tempDir('scalpel-hf-pruned-');
  const manifest = await writeModelArtifact(dir, model, builtinFamilyLookup);
  model.dispose();
  return { artifact: artifactFrom('model', dir, { manifest }), masks };
}

async function withModel<T>(artifact: Artifact, f: (m: PrunableModel) => T): Promise<T> {
  const model = await readModelArtifact(artifact, builtinFamilyLookup);
  try {
    return f(model);
  } finally {
    model.dispose();
  }
}

describe('hf-causal-lm: export and load-model stages', function () {
  this.timeout(60_000);
  before(async () => {
    await initBackend('wasm');
  });

  it('load-model auto-detects an HF directory and reports its operators and parameters', async () => {
    const dir = await writeCase(llamaCase);
    const recipeDir = join(dir, '..');
    const r = await runStage(loadModelStage, { path: 'model' }, { recipeDir });
    assert.equal(r.result.manifest?.family, 'hf-causal-lm');
    const metrics = r.result.metrics as {
      totalParams: number;
      prunableParams: number;
      prunableLayers: { name: string; kernelShape: number[] }[];
    };
    const total = [...llamaCase.weights.values()].reduce((n, w) => n + w.length, 0);
    assert.equal(metrics.totalParams, total);
    assert.deepEqual(
      metrics.prunableLayers.map((l) => l.name),
      llamaCase.operators,
    );
    assert.deepEqual(metrics.prunableLayers[3]?.kernelShape, [16, 16], 'o_proj as [fanIn, units]');
    const ids = randomIds(2, 2, 6);
    const direct = new HfCausalLmModel(parseHfConfig(llamaCase.json), llamaCase.weights);
    await withModel(r.artifact, (m) => assert.deepEqual(logitsOf(m, ids), logitsOf(direct, ids)));
    direct.dispose();
    // the fingerprint follows every file, tokenizer files included
    const fp = (): unknown => loadModelStage.fingerprint?.({ path: 'model' }, r.ctx);
    const first = JSON.stringify(await fp());
    await fs.appendFile(join(dir, 'tokenizer.json'), ' ');
    assert.notEqual(JSON.stringify(await fp()), first);
  });

  it('format hf (F32): the directory reloads with identical logits; masks, sparsity, tokenizer files', async () => {
    const { artifact, masks } = await prunedArtifact(gpt2Case);
    const before = tf.memory().numTensors;
    const r = await runStage(exportStage, { format: 'hf' }, { inputs: [artifact] });
    assert.equal(tf.memory().numTensors, before, 'export leaks no tensors');
    const out = r.ctx.outDir;
    const expectedFiles = [
      'config.json',
      'model.safetensors',
      ...gpt2Case.tokenizer.keys(),
      'masks.json',
      'masks.bin',
      'sparsity.json',
      'export.json',
    ];
    assert.deepEqual((await fs.readdir(out)).sort(), [...expectedFiles].sort());
    assert.deepEqual([...(r.result.manifest?.files as string[])].sort(), [...expectedFiles].sort());
    for (const [name, bytes] of gpt2Case.tokenizer)
      assert.deepEqual(new Uint8Array(await fs.readFile(join(out, name))), bytes, name);
    // HF names as loaded, in F32
    const dtypes = await storedDtypes(join(out, 'model.safetensors'));
    assert.deepEqual([...dtypes.keys()].sort(), [...gpt2Case.weights.keys()].sort());
    assert.deepEqual([...new Set(dtypes.values())], ['F32']);

    const ids = randomIds(3, 2, 7);
    const original = await withModel(artifact, (m) => logitsOf(m, ids));
    const reloaded = await loadedArtifact(out);
    await withModel(reloaded, (m) => assert.deepEqual(logitsOf(m, ids), original));
    const readBack = await readMasks(out);
    for (const [name, mask] of masks) assert.deepEqual(readBack.get(name), mask, name);

    const sparsity = JSON.parse(
      await fs.readFile(join(out, 'sparsity.json'), 'utf8'),
    ) as SparsityManifest;
    const op = gpt2Case.operators[0] as string;
    const mask = masks.get(op) as Uint8Array;
    const kept = mask.reduce((a, b) => a + b, 0);
    const entry = sparsity.layers.find((l) => l.name === op);
    assert.equal(entry?.maskDensity, kept / mask.length);
    assert.equal(entry?.nonZero, kept);
    assert.deepEqual(entry?.shape, [16, 48]);
    const report = JSON.parse(await fs.readFile(join(out, 'export.json'), 'utf8')) as {
      sizes: Record<string, { bytes: number }>;
    };
    const weightBytes =
      (await fs.stat(join(out, 'model.safetensors'))).size +
      (await fs.stat(join(out, 'config.json'))).size;
    assert.equal(report.sizes.hf?.bytes, weightBytes);
  });

  it('format hf with dtype bf16: BF16 in the file, the weights rounded to nearest-even', async () => {
    const source = await writeCase(gpt2Case); // F32
    const artifact = await loadedArtifact(source);
    const r = await runStage(exportStage, { format: 'hf', dtype: 'bf16' }, { inputs: [artifact] });
    const out = r.ctx.outDir;
    const dtypes = await storedDtypes(join(out, 'model.safetensors'));
    assert.equal(dtypes.size, gpt2Case.weights.size);
    assert.deepEqual([...new Set(dtypes.values())], ['BF16']);
    const config = JSON.parse(await fs.readFile(join(out, 'config.json'), 'utf8')) as {
      torch_dtype?: string;
    };
    assert.equal(config.torch_dtype, 'bfloat16');

    const rounded = roundedToBf16(gpt2Case.weights);
    const ids = randomIds(4, 2, 7);
    const direct = new HfCausalLmModel(parseHfConfig(gpt2Case.json), rounded);
    const full = await withModel(artifact, (m) => logitsOf(m, ids));
    await withModel(await loadedArtifact(out), (m) => {
      assert.ok(m instanceof HfCausalLmModel);
      for (const [name, values] of m.tensors()) assert.deepEqual(values, rounded.get(name), name);
      const got = logitsOf(m, ids);
      assert.deepEqual(got, logitsOf(direct, ids));
      // bf16 keeps 8 bits of mantissa: the logits move, but by little
      assertClose(got, full, 0.05, 'bf16 logits vs f32 logits');
    });
    direct.dispose();
  });

  it('format auto picks each family format; a tfjs export is unchanged by it', async () => {
    const { artifact } = await prunedArtifact(llamaCase);
    const hf = await runStage(exportStage, { format: 'auto' }, { inputs: [artifact] });
    assert.deepEqual(
      [...new Set((await storedDtypes(join(hf.ctx.outDir, 'model.safetensors'))).values())],
      ['BF16'],
      'dtype as loaded',
    );
    const tfjsModel = makeModel();
    const tfjsInput = await modelArtifact(tfjsModel);
    tfjsModel.dispose();
    const auto = await runStage(exportStage, { format: 'auto' }, { inputs: [tfjsInput] });
    const plain = await runStage(exportStage, {}, { inputs: [tfjsInput] });
    const names = (await fs.readdir(plain.ctx.outDir)).sort();
    assert.deepEqual((await fs.readdir(auto.ctx.outDir)).sort(), names);
    for (const f of names) {
      assert.deepEqual(
        await fs.readFile(join(auto.ctx.outDir, f)),
        await fs.readFile(join(plain.ctx.outDir, f)),
        f,
      );
    }
  });

  it('refuses sparse with hf, dtype with tfjs and a format of the other family (E_STAGE)', async () => {
    const { artifact } = await prunedArtifact(gpt2Case);
    const tfjsModel = makeModel();
    const tfjsInput = await modelArtifact(tfjsModel);
    tfjsModel.dispose();
    const refused: [Record<string, unknown>, Artifact, RegExp][] = [
      [{ format: 'hf', sparse: true }, artifact, /sparse: true .* tfjs LayersModels/],
      [
        { sparse: true },
        artifact,
        /format 'tfjs' exports tfjs-layers models; this model is 'hf-causal-lm'/,
      ],
      [
        { format: 'hf' },
        tfjsInput,
        /format 'hf' exports hf-causal-lm and hf-image-classifier models; this model is 'tfjs-layers'/,
      ],
      [{ dtype: 'bf16' }, tfjsInput, /dtype: bf16 applies to format hf/],
    ];
    for (const [params, input, message] of refused) {
      const outDir = join(tempDir('scalpel-export-'), 'out');
      await assert.rejects(
        runStage(exportStage, params, { inputs: [input], outDir }),
        (e: unknown) => {
          const err = e as { code?: string; message: string; hint?: string };
          assert.equal(err.code, 'E_STAGE', err.message);
          assert.match(err.message, message);
          assert.ok((err.hint ?? '').length > 0);
          return true;
        },
      );
      assert.deepEqual(await fs.readdir(outDir), [], 'nothing written');
    }
  });

  it("publishing a tfjs export over an HF one removes the HF files, never a user's tokenizer.json", async () => {
    const { artifact } = await prunedArtifact(llamaCase);
    const tfjsModel = makeModel();
    const tfjsInput = await modelArtifact(tfjsModel);
    tfjsModel.dispose();
    const recipeDir = tempDir('scalpel-recipe-');
    const target = join(recipeDir, 'published');
    await runStage(
      exportStage,
      { format: 'hf', to: 'published' },
      { inputs: [artifact], recipeDir },
    );
    await fs.writeFile(join(target, 'README.md'), 'mine');
    assert.ok((await fs.readdir(target)).includes('model.safetensors'));
    await runStage(exportStage, { to: 'published' }, { inputs: [tfjsInput], recipeDir });
    assert.deepEqual((await fs.readdir(target)).sort(), [
      'README.md',
      'export.json',
      'model.json',
      'sparsity.json',
      'weights.bin',
    ]);
    // a tokenizer.json the user keeps beside a tfjs model is not an earlier export's file
    await fs.writeFile(join(target, 'tokenizer.json'), 'user file');
    await runStage(exportStage, { to: 'published' }, { inputs: [tfjsInput], recipeDir });
    assert.equal(await fs.readFile(join(target, 'tokenizer.json'), 'utf8'), 'user file');
  });
});
