// Fashion-MNIST's official split from the Debian package dataset-fashion-mnist (.ci/run installs
// it): 60,000 / 10,000 samples whose labels and pixels equal the bytes of the IDX files, gunzipped
// and read here by offset (the IDX header is 8 bytes for labels, 16 for images); a clear E_IO
// naming the fix when the files are missing.
import { strict as assert } from 'node:assert';
import { copyFileSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { isScalpelError } from '../../src/errors.js';
import { readDatasetArtifact, requireSplit } from '../../src/data/dataset-artifact.js';
import { DEBIAN_FASHION_MNIST_DIR } from '../../src/data/sources/fashion-mnist-official.js';
import type { Dataset } from '../../src/data/types.js';
import { loadDatasetStage } from '../../src/stages/load-dataset.js';
import { makeStageContext, runStage } from '../helpers/stage-context.js';
import { tempDir } from '../helpers/paths.js';

const raw = (file: string): Buffer =>
  gunzipSync(readFileSync(join(DEBIAN_FASHION_MNIST_DIR, file)));

function assertIoError(e: unknown, where: string): boolean {
  assert.ok(isScalpelError(e), String(e));
  assert.equal(e.code, 'E_IO');
  assert.ok(e.message.includes(where), e.message);
  assert.match(e.hint ?? '', /apt-get install dataset-fashion-mnist/);
  return true;
}

describe('fashion-mnist-official source (Debian dataset-fashion-mnist)', function () {
  this.timeout(120_000);
  let dataset: Dataset;
  let metrics: Record<string, unknown>;

  before(async () => {
    const { ctx, result } = await runStage(loadDatasetStage, {
      source: 'fashion-mnist-official',
      flatten: false,
    });
    dataset = await readDatasetArtifact(ctx.outDir);
    metrics = result.metrics ?? {};
  });

  it('holds the official 60,000 / 10,000 split with the 10 Fashion-MNIST classes', () => {
    const train = requireSplit(dataset, 'train');
    const test = requireSplit(dataset, 'test');
    assert.equal(train.count, 60000);
    assert.equal(test.count, 10000);
    assert.deepEqual(train.sampleShape, [28, 28, 1]);
    assert.equal(dataset.numClasses, 10);
    assert.equal(dataset.classNames?.[9], 'Ankle boot');
    assert.equal(metrics.skipped, 0);
    assert.deepEqual(dataset.image?.layout, 'hwc');
  });

  it('labels, ids and pixels are the bytes of the IDX files', () => {
    for (const [name, prefix] of [
      ['train', 'train'],
      ['test', 't10k'],
    ] as const) {
      const split = requireSplit(dataset, name);
      const labels = raw(`${prefix}-labels-idx1-ubyte.gz`);
      const images = raw(`${prefix}-images-idx3-ubyte.gz`);
      assert.equal(labels.readUInt32BE(4), split.count);
      for (const i of [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 1234, split.count - 1]) {
        assert.equal(split.y[i], labels[8 + i], `${name} label ${i}`);
        assert.equal(split.ids[i], i);
      }
      // No normalisation: features are the raw pixels.
      for (const i of [0, 777, split.count - 1])
        for (let k = 0; k < 784; k += 13)
          assert.equal(
            split.x[i * 784 + k],
            images[16 + i * 784 + k],
            `${name} sample ${i} pixel ${k}`,
          );
    }
    // The well-known first labels of the official files: 9 (ankle boot), 0, 0, 3, 0 / 9, 2, 1, 1, 6.
    assert.deepEqual(Array.from(requireSplit(dataset, 'train').y.subarray(0, 5)), [9, 0, 0, 3, 0]);
    assert.deepEqual(Array.from(requireSplit(dataset, 'test').y.subarray(0, 5)), [9, 2, 1, 1, 6]);
  });

  it('takes train/test subsets like the other sources', async () => {
    const { ctx } = await runStage(loadDatasetStage, {
      source: 'fashion-mnist-official',
      train: 300,
      test: 40,
    });
    const d = await readDatasetArtifact(ctx.outDir);
    assert.equal(requireSplit(d, 'train').count, 300);
    assert.equal(requireSplit(d, 'test').count, 40);
    assert.deepEqual(requireSplit(d, 'train').sampleShape, [784]);
  });

  it('fails with E_IO and the apt-get hint when the files are missing (`dir` elsewhere, or an incomplete copy)', async () => {
    const missing = join(tempDir('scalpel-fm-'), 'nowhere');
    const ctx = makeStageContext(loadDatasetStage, {
      source: 'fashion-mnist-official',
      dir: missing,
    });
    await assert.rejects(loadDatasetStage.run(ctx), (e) => assertIoError(e, missing));
    await assert.rejects(
      Promise.resolve().then(() => loadDatasetStage.fingerprint?.(ctx.params, ctx)),
      (e) => assertIoError(e, missing),
    );
    // A directory with three of the four files: the error names the missing one.
    const partial = tempDir('scalpel-fm-partial-');
    for (const f of [
      'train-images-idx3-ubyte.gz',
      'train-labels-idx1-ubyte.gz',
      't10k-images-idx3-ubyte.gz',
    ])
      copyFileSync(join(DEBIAN_FASHION_MNIST_DIR, f), join(partial, f));
    const ctx2 = makeStageContext(loadDatasetStage, {
      source: 'fashion-mnist-official',
      dir: partial,
      train: 10,
    });
    await assert.rejects(loadDatasetStage.run(ctx2), (e) =>
      assertIoError(e, join(partial, 't10k-labels-idx1-ubyte.gz')),
    );
  });

  it('rejects path/files (E_RECIPE_SCHEMA) and is fingerprinted by the files’ contents', async () => {
    const ctx = makeStageContext(loadDatasetStage, {
      source: 'fashion-mnist-official',
      path: 'x.csv',
    });
    await assert.rejects(loadDatasetStage.run(ctx), (e: unknown) => {
      assert.ok(isScalpelError(e) && e.code === 'E_RECIPE_SCHEMA', String(e));
      return true;
    });
    const ok = makeStageContext(loadDatasetStage, { source: 'fashion-mnist-official' });
    const fp = (await loadDatasetStage.fingerprint?.(ok.params, ok)) as Record<
      string,
      { labels: string }
    >;
    assert.match(fp.train?.labels ?? '', /^[0-9a-f]{64}$/);
  });
});
