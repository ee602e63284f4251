import { strict as assert } from 'node:assert';
import { promises as fs } from 'node:fs';
import { join } from 'node:path';
import { isScalpelError } from '../../src/errors.js';
import { Rng } from '../../src/util/rng.js';
import { decodePixels, pixelLut } from '../../src/data/feature-transform.js';
import {
  isPixelSplit,
  readDatasetArtifact,
  requireSplit,
  writeDatasetArtifact,
  type PixelSplit,
} from '../../src/data/dataset-artifact.js';
import type { Dataset, DatasetSplit } from '../../src/data/types.js';
import { tempDir } from '../helpers/paths.js';

function pixelSplit(
  name: string,
  count: number,
  size: number,
  rng: Rng,
  mean: number,
  std: number,
): PixelSplit {
  const pixels = new Uint8Array(count * size);
  for (let i = 0; i < pixels.length; i++) pixels[i] = rng.int(256);
  const lut = pixelLut({ kind: 'normalize', mean, std });
  const y = new Int32Array(count).map(() => rng.int(10));
  const ids = new Int32Array(count).map((_, i) => i * 3 + 1);
  return { name, count, sampleShape: [size], x: decodePixels(pixels, lut), y, ids, pixels, lut };
}

function floatSplit(name: string, count: number, shape: number[], rng: Rng): DatasetSplit {
  const size = shape.reduce((a, b) => a * b, 1);
  const x = new Float32Array(count * size).map(() => rng.normal());
  x[0] = -0; // signed zero and a subnormal must survive
  if (x.length > 1) x[1] = 1e-42;
  return {
    name,
    count,
    sampleShape: shape,
    x,
    y: new Int32Array(count).map(() => rng.int(3)),
    ids: new Int32Array(count).map((_, i) => 100 - i),
  };
}

function bits(a: Float32Array): Int32Array {
  return new Int32Array(a.buffer, a.byteOffset, a.length);
}

function assertSplitsEqual(a: DatasetSplit, b: DatasetSplit): void {
  assert.equal(b.name, a.name);
  assert.equal(b.count, a.count);
  assert.deepEqual([...b.sampleShape], [...a.sampleShape]);
  assert.ok(
    Buffer.from(bits(b.x).buffer, bits(b.x).byteOffset, b.x.byteLength).equals(
      Buffer.from(bits(a.x).buffer, bits(a.x).byteOffset, a.x.byteLength),
    ),
    `x of ${a.name} differs`,
  );
  assert.deepEqual(b.y, a.y);
  assert.deepEqual(b.ids, a.ids);
}

describe('dataset artifact', () => {
  it('round-trips pixel and float splits bit-identically, storing pixels as one byte each', async () => {
    const rng = new Rng(5);
    const ds: Dataset = {
      source: 'test',
      numClasses: 10,
      classNames: ['a', 'b', 'c', 'd', 'e', 'f', 'g', 'h', 'i', 'j'],
      splits: new Map<string, DatasetSplit>([
        ['train', pixelSplit('train', 300, 784, rng, 0.286, 0.353)],
        ['test', floatSplit('test', 50, [4, 3, 2], rng)],
        ['empty', floatSplit('empty', 0, [7], rng)],
      ]),
    };
    const dir = tempDir();
    const manifest = await writeDatasetArtifact(dir, ds);
    assert.deepEqual(
      manifest.splits.map((s) => [s.name, s.count, s.x.dtype]),
      [
        ['train', 300, 'uint8'],
        ['test', 50, 'float32'],
        ['empty', 0, 'float32'],
      ],
    );
    const xFile = manifest.splits[0]?.x.file ?? '';
    assert.equal((await fs.stat(join(dir, xFile))).size, 300 * 784);
    const back = await readDatasetArtifact(dir);
    assert.equal(back.source, 'test');
    assert.equal(back.numClasses, 10);
    assert.deepEqual(back.classNames, ds.classNames);
    assert.deepEqual([...back.splits.keys()], ['train', 'test', 'empty']);
    for (const [name, s] of ds.splits) assertSplitsEqual(s, requireSplit(back, name));
    const train = requireSplit(back, 'train');
    assert.ok(isPixelSplit(train));
    // the table really is (p/255 - mean)/std in float32
    assert.equal(train.lut[200], Math.fround((200 / 255 - 0.286) / 0.353));
    assert.throws(
      () => requireSplit(back, 'valid'),
      (e: unknown) =>
        isScalpelError(e) &&
        /no 'valid' split/.test(e.message) &&
        /train, test, empty/.test(e.hint ?? ''),
    );
  });

  it('falls back to float32 when the pixels do not reproduce x', async () => {
    const rng = new Rng(9);
    const s = pixelSplit('train', 20, 16, rng, 0.5, 0.5);
    s.x[7] = 123.5; // features edited after decoding: the pixels are no longer the truth
    const dir = tempDir();
    const manifest = await writeDatasetArtifact(dir, {
      source: 't',
      numClasses: 10,
      splits: new Map([['train', s]]),
    });
    assert.equal(manifest.splits[0]?.x.dtype, 'float32');
    assertSplitsEqual(s, requireSplit(await readDatasetArtifact(dir), 'train'));
  });

  it('reads 70,000 × 784 pixel samples back exactly (bulk reads: the timing is bench/, not here)', async function () {
    this.timeout(30000);
    const rng = new Rng(1);
    const dir = tempDir();
    const big = pixelSplit('train', 70000, 784, rng, 0.5, 0.5);
    await writeDatasetArtifact(dir, {
      source: 'big',
      numClasses: 10,
      splits: new Map([['train', big]]),
    });
    const back: Dataset = await readDatasetArtifact(dir);
    assertSplitsEqual(big, requireSplit(back, 'train'));
    await fs.rm(dir, { recursive: true, force: true });
  });

  it('rejects missing, truncated and foreign artifacts with E_DATA', async () => {
    const rng = new Rng(2);
    const dir = tempDir();
    const m = await writeDatasetArtifact(dir, {
      source: 't',
      numClasses: 3,
      splits: new Map([['test', floatSplit('test', 10, [5], rng)]]),
    });
    const xFile = join(dir, m.splits[0]?.x.file ?? '');
    const full = await fs.readFile(xFile);
    await fs.writeFile(xFile, full.subarray(0, full.length - 4));
    await assert.rejects(
      readDatasetArtifact(dir),
      (e: unknown) =>
        isScalpelError(e) &&
        e.code === 'E_DATA' &&
        /holds 196 bytes, meta.json describes 200/.test(e.message),
    );
    await fs.rm(xFile);
    await assert.rejects(
      readDatasetArtifact(dir),
      (e: unknown) => isScalpelError(e) && e.code === 'E_DATA' && /ENOENT/.test(e.message),
    );
    await fs.writeFile(join(dir, 'meta.json'), '{"format":"something-else"}');
    await assert.rejects(
      readDatasetArtifact(dir),
      (e: unknown) =>
        isScalpelError(e) && e.code === 'E_DATA' && /not a scalpel dataset/.test(e.message),
    );
    await assert.rejects(
      readDatasetArtifact(tempDir()),
      (e: unknown) =>
        isScalpelError(e) && e.code === 'E_DATA' && /no dataset artifact/.test(e.message),
    );
  });
});
