// Hugging Face checkpoint directories: single-file and sharded round trips, index routing,
// shard plans checked against a plan worked out by hand, tokenizer files copied through, and
// the errors of incomplete or inconsistent directories.
import { strict as assert } from 'node:assert';
import {
  closeSync,
  mkdirSync,
  openSync,
  readdirSync,
  readFileSync,
  writeFileSync,
  writeSync,
} from 'node:fs';
import { join } from 'node:path';
import { isScalpelError } from '../../../src/errors.js';
import {
  isHfCheckpointDir,
  openCheckpoint,
  writeCheckpoint,
} from '../../../src/models/hf/checkpoint-dir.js';
import { openSafetensors, writeSafetensors } from '../../../src/models/hf/safetensors.js';
import { tempDir } from '../../helpers/paths.js';
import { bf16Value, nearestBf16 } from './reference-floats.js';
import { disassemble } from './safetensors-bytes.js';

async function rejects(p: Promise<unknown>, code: string, ...patterns: RegExp[]): Promise<void> {
  await assert.rejects(p, (e: unknown) => {
    assert.ok(isScalpelError(e), `not a ScalpelError: ${String(e)}`);
    assert.equal(e.code, code, e.message);
    for (const re of patterns) assert.match(e.message, re);
    return true;
  });
}

const ramp = (n: number, from = 0): Float32Array =>
  Float32Array.from({ length: n }, (_, i) => from + i);
const config = { model_type: 'toy', hidden_size: 4, architectures: ['ToyModel'] };

/** A source checkpoint with tokenizer files (and one file that must not travel). */
function sourceDir(): string {
  const dir = tempDir();
  writeFileSync(join(dir, 'tokenizer.json'), '{"version":"1.0","model":{"type":"BPE"}}');
  writeFileSync(join(dir, 'tokenizer_config.json'), '{"model_max_length":8}');
  writeFileSync(join(dir, 'special_tokens_map.json'), '{"eos_token":"</s>"}');
  writeFileSync(join(dir, 'generation_config.json'), '{"max_new_tokens":3}');
  writeFileSync(join(dir, 'README.md'), 'not part of the model');
  return dir;
}

describe('Hugging Face checkpoint directories', () => {
  it('writes and reads back a single-file checkpoint with tokenizer files copied through', async () => {
    const src = sourceDir();
    const dir = join(tempDir(), 'out'); // created by writeCheckpoint
    const q = Float32Array.from([0.1, -1.7, 3.3e-5, 1000.5]);
    await writeCheckpoint(dir, {
      config,
      dtype: 'BF16',
      copyFrom: src,
      tensors: [
        { name: 'layers.0.q.weight', shape: [2, 2], data: q },
        { name: 'embed.weight', shape: [3, 2], data: ramp(6), dtype: 'F32' },
      ],
    });
    assert.deepEqual(readdirSync(dir).sort(), [
      'config.json',
      'generation_config.json',
      'model.safetensors',
      'special_tokens_map.json',
      'tokenizer.json',
      'tokenizer_config.json',
    ]);
    for (const f of ['tokenizer.json', 'tokenizer_config.json', 'special_tokens_map.json']) {
      assert.deepEqual(readFileSync(join(dir, f)), readFileSync(join(src, f)), f);
    }
    assert.ok(await isHfCheckpointDir(dir));
    const ck = await openCheckpoint(dir);
    try {
      assert.deepEqual(ck.config, config);
      assert.deepEqual(ck.tensorNames(), ['embed.weight', 'layers.0.q.weight']);
      assert.deepEqual(ck.shapeOf('layers.0.q.weight'), [2, 2]);
      assert.equal(ck.dtypeOf('layers.0.q.weight'), 'BF16');
      assert.equal(ck.dtypeOf('embed.weight'), 'F32');
      assert.deepEqual(Array.from(await ck.read('embed.weight')), [0, 1, 2, 3, 4, 5]);
      const back = await ck.read('layers.0.q.weight');
      assert.deepEqual(
        Array.from(back),
        Array.from(q, (x) => bf16Value(nearestBf16(x))),
      );
      assert.deepEqual(ck.files, [
        join(dir, 'config.json'),
        join(dir, 'model.safetensors'),
        join(dir, 'tokenizer.json'),
        join(dir, 'tokenizer_config.json'),
        join(dir, 'special_tokens_map.json'),
        join(dir, 'generation_config.json'),
      ]);
      await rejects(ck.read('missing.weight'), 'E_DATA', /missing\.weight/);
    } finally {
      await ck.close();
    }
    // transformers refuses safetensors weights without format metadata
    const f = await openSafetensors(join(dir, 'model.safetensors'));
    assert.deepEqual(f.metadata, { format: 'pt' });
    await f.close();
  });

  it('shards greedily in name order once shardBytes is exceeded, with an index', async () => {
    const dir = tempDir();
    // a: 40 B, b: 40 B, c: 24 B, d: 100 B (F32). With 64 B shards, by hand:
    // [a] (a+b = 80 > 64), [b, c] (= 64, fits), [d] (alone: larger than a shard by itself)
    await writeCheckpoint(dir, {
      config,
      shardBytes: 64,
      tensors: [
        { name: 'd', shape: [25], data: ramp(25, 300) },
        { name: 'b', shape: [10], data: ramp(10, 100) },
        { name: 'a', shape: [2, 5], data: ramp(10) },
        { name: 'c', shape: [6], data: ramp(6, 200) },
      ],
    });
    const s1 = 'model-00001-of-00003.safetensors';
    const s2 = 'model-00002-of-00003.safetensors';
    const s3 = 'model-00003-of-00003.safetensors';
    assert.deepEqual(readdirSync(dir).sort(), [
      'config.json',
      s1,
      s2,
      s3,
      'model.safetensors.index.json',
    ]);
    const index = JSON.parse(readFileSync(join(dir, 'model.safetensors.index.json'), 'utf8'));
    assert.deepEqual(index, {
      metadata: { total_size: 40 + 40 + 24 + 100 },
      weight_map: { a: s1, b: s2, c: s2, d: s3 },
    });
    assert.deepEqual(Object.keys(disassemble(readFileSync(join(dir, s2))).header), [
      '__metadata__',
      'b',
      'c',
    ]);
    const ck = await openCheckpoint(dir);
    try {
      assert.deepEqual(ck.tensorNames(), ['a', 'b', 'c', 'd']);
      assert.deepEqual(Array.from(await ck.read('c')), [200, 201, 202, 203, 204, 205]);
      assert.equal(ck.bytesRead, 24, 'reading c read only c');
      assert.deepEqual(Array.from(await ck.read('d')), Array.from(ramp(25, 300)));
      assert.deepEqual(Array.from(await ck.read('a')), Array.from(ramp(10)));
      assert.deepEqual(ck.files, [
        join(dir, 'config.json'),
        join(dir, 'model.safetensors.index.json'),
        join(dir, s1),
        join(dir, s2),
        join(dir, s3),
      ]);
    } finally {
      await ck.close();
    }
  });

  it('writes one model.safetensors when everything fits in a shard', async () => {
    const dir = tempDir();
    await writeCheckpoint(dir, {
      config,
      shardBytes: 1000,
      tensors: [{ name: 'a', shape: [3], data: ramp(3) }],
    });
    assert.deepEqual(readdirSync(dir).sort(), ['config.json', 'model.safetensors']);
  });

  describe('a sharded checkpoint written by hand', () => {
    /** Two shards and an index; `index` overrides the weight_map. */
    async function handSharded(weightMap?: Record<string, string>): Promise<string> {
      const dir = tempDir();
      writeFileSync(join(dir, 'config.json'), JSON.stringify(config));
      await writeSafetensors(join(dir, 'part-a.safetensors'), [
        { name: 'x', shape: [2], data: Float32Array.from([1, 2]) },
        { name: 'y', shape: [1], data: Float32Array.from([3]) },
      ]);
      await writeSafetensors(join(dir, 'part-b.safetensors'), [
        { name: 'z', shape: [2], data: Float32Array.from([4, 5]) },
      ]);
      writeFileSync(
        join(dir, 'model.safetensors.index.json'),
        JSON.stringify({
          metadata: { total_size: 20 },
          weight_map: weightMap ?? {
            x: 'part-a.safetensors',
            y: 'part-a.safetensors',
            z: 'part-b.safetensors',
          },
        }),
      );
      return dir;
    }

    it('routes each tensor to the shard the index names, reading no other shard', async () => {
      const dir = await handSharded();
      const ck = await openCheckpoint(dir);
      try {
        // scribble over part-a's data after opening: z lives in part-b and must not notice
        const a = join(dir, 'part-a.safetensors');
        const headerEnd = 8 + disassemble(readFileSync(a)).headerLength;
        const fd = openSync(a, 'r+');
        writeSync(fd, new Uint8Array(12).fill(0xff), 0, 12, headerEnd);
        closeSync(fd);
        assert.deepEqual(Array.from(await ck.read('z')), [4, 5]);
        assert.equal(ck.bytesRead, 8);
        assert.ok(Array.from(await ck.read('x')).every(Number.isNaN), 'x is read from part-a now');
      } finally {
        await ck.close();
      }
    });

    it('fails with E_IO naming a shard the index lists but the directory lacks', async () => {
      const dir = await handSharded({
        x: 'part-a.safetensors',
        y: 'part-a.safetensors',
        z: 'part-c.safetensors',
      });
      await rejects(openCheckpoint(dir), 'E_IO', /part-c\.safetensors/, /'z'/, /index\.json/);
    });

    it('fails with E_DATA when a tensor is in two shards', async () => {
      const dir = await handSharded();
      await writeSafetensors(join(dir, 'part-b.safetensors'), [
        { name: 'z', shape: [2], data: Float32Array.from([4, 5]) },
        { name: 'y', shape: [1], data: Float32Array.from([3]) },
      ]);
      await rejects(openCheckpoint(dir), 'E_DATA', /'y'/, /two shards/, /part-a/, /part-b/);
    });

    it('fails with E_DATA when the index puts a tensor in a shard that does not hold it', async () => {
      const dir = await handSharded({
        x: 'part-a.safetensors',
        y: 'part-a.safetensors',
        z: 'part-b.safetensors',
        w: 'part-b.safetensors',
      });
      await rejects(openCheckpoint(dir), 'E_DATA', /'w'/, /part-b/, /index\.json/);
      const dir2 = await handSharded({ x: 'part-a.safetensors', z: 'part-b.safetensors' });
      await rejects(openCheckpoint(dir2), 'E_DATA', /'y'/, /no shard/);
    });

    it('refuses shard names that leave the directory', async () => {
      const dir = await handSharded({
        x: '../part-a.safetensors',
        y: 'part-a.safetensors',
        z: 'part-b.safetensors',
      });
      await rejects(openCheckpoint(dir), 'E_DATA', /'x'/, /\.\.\/part-a/);
    });

    it('fails with E_DATA naming an index that is not JSON or has no weight_map', async () => {
      const dir = await handSharded();
      writeFileSync(join(dir, 'model.safetensors.index.json'), '{"weight_map": {');
      await rejects(openCheckpoint(dir), 'E_DATA', /model\.safetensors\.index\.json/, /JSON/);
      writeFileSync(join(dir, 'model.safetensors.index.json'), '{"metadata": {}}');
      await rejects(openCheckpoint(dir), 'E_DATA', /model\.safetensors\.index\.json/, /weight_map/);
    });

    it('names the shard file when a shard itself is corrupt', async () => {
      const dir = await handSharded();
      const b = join(dir, 'part-b.safetensors');
      writeFileSync(b, readFileSync(b).subarray(0, readFileSync(b).length - 3));
      await rejects(openCheckpoint(dir), 'E_DATA', /part-b\.safetensors/);
    });
  });

  it('reports missing or malformed config and missing weights, saying what was expected', async () => {
    const dir = tempDir();
    await rejects(openCheckpoint(join(dir, 'nope')), 'E_IO', /nope/, /not found/);
    await rejects(openCheckpoint(dir), 'E_IO', /config\.json/);
    writeFileSync(join(dir, 'config.json'), '{"model_type": ');
    await rejects(openCheckpoint(dir), 'E_DATA', /config\.json/, /JSON/);
    writeFileSync(join(dir, 'config.json'), '[1]');
    await rejects(openCheckpoint(dir), 'E_DATA', /config\.json/, /object/);
    writeFileSync(join(dir, 'config.json'), JSON.stringify(config));
    await rejects(openCheckpoint(dir), 'E_IO', /no weights/, /model\.safetensors/, /index\.json/);
    writeFileSync(join(dir, 'pytorch_model.bin'), 'pickle');
    await assert.rejects(
      openCheckpoint(dir),
      (e: unknown) => isScalpelError(e) && /safetensors/.test(e.hint ?? ''),
    );
    await rejects(openCheckpoint(join(dir, 'config.json')), 'E_IO', /not a directory/);
  });

  it('tells checkpoint directories from other paths', async () => {
    const dir = tempDir();
    assert.equal(await isHfCheckpointDir(dir), false, 'empty directory');
    assert.equal(await isHfCheckpointDir(join(dir, 'missing')), false, 'missing path');
    mkdirSync(join(dir, 'config.json'));
    assert.equal(await isHfCheckpointDir(dir), false, 'config.json is a directory');
    const withConfig = tempDir();
    writeFileSync(join(withConfig, 'config.json'), '{}');
    assert.equal(await isHfCheckpointDir(withConfig), true);
    assert.equal(await isHfCheckpointDir(join(withConfig, 'config.json')), false, 'a file');
  });

  it('refuses to write into a non-empty directory and leaves it untouched', async () => {
    const dir = tempDir();
    writeFileSync(join(dir, 'model.safetensors'), 'old');
    await rejects(
      writeCheckpoint(dir, { config, tensors: [{ name: 'a', shape: [1], data: ramp(1) }] }),
      'E_IO',
      /not empty/,
    );
    assert.deepEqual(readdirSync(dir), ['model.safetensors']);
    assert.equal(readFileSync(join(dir, 'model.safetensors'), 'utf8'), 'old');
    const empty = tempDir();
    await rejects(
      writeCheckpoint(empty, { config, tensors: [], copyFrom: join(empty, 'nowhere') }),
      'E_IO',
      /nowhere/,
    );
    assert.deepEqual(readdirSync(empty), [], 'nothing written when copyFrom is wrong');
    await rejects(
      writeCheckpoint(empty, {
        config,
        shardBytes: 4,
        tensors: [
          { name: 'a', shape: [1], data: ramp(1) },
          { name: 'a', shape: [1], data: ramp(1) },
        ],
      }),
      'E_INTERNAL',
      /'a'/,
    );
    assert.deepEqual(readdirSync(empty), [], 'duplicates caught before any shard is written');
  });
});
