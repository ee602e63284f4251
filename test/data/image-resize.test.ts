// load-dataset's `resize`: the sampling against tfjs-core's own tf.image.resizeBilinear /
// resizeNearestNeighbor with halfPixelCenters (an independent implementation of the same rule, on
// the cpu backend), a case worked by hand, the 8-bit rounding, and the option end to end through
// load-dataset (resize, then pad, then normalise; meta.json's image.resize) with its errors.
import { strict as assert } from 'node:assert';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { isScalpelError } from '../../src/errors.js';
import { resizeImages, type ResizeMethod } from '../../src/data/image-resize.js';
import {
  readDatasetArtifact,
  readDatasetManifest,
  requireSplit,
} from '../../src/data/dataset-artifact.js';
import { loadDatasetStage } from '../../src/stages/load-dataset.js';
import { Rng } from '../../src/util/rng.js';
import { runStage } from '../helpers/stage-context.js';
import { tempDir } from '../helpers/paths.js';
import { expectArraysClose } from '../helpers/expect-arrays-close.js';
import { writeIdx } from './idx-files.js';

/** tfjs-core's resize of `count` HWC images (float32, cpu backend). */
async function tfjsResize(
  values: ArrayLike<number>,
  shape: [number, number, number, number],
  out: [number, number],
  method: ResizeMethod,
): Promise<Float32Array> {
  const previous = tf.getBackend() as string | undefined;
  await tf.setBackend('cpu');
  try {
    return tf.tidy(() => {
      const x = tf.tensor4d(Float32Array.from(values), shape);
      const y =
        method === 'bilinear'
          ? tf.image.resizeBilinear(x, out, false, true)
          : tf.image.resizeNearestNeighbor(x, out, false, true);
      return y.dataSync() as Float32Array;
    });
  } finally {
    if (previous !== undefined) await tf.setBackend(previous);
  }
}

describe('load-dataset resize: half-pixel-centre bilinear and nearest', function () {
  this.timeout(60_000);
  const rng = new Rng(5);

  it('2×2 → 4×4 bilinear, worked by hand', () => {
    // Output pixel y reads row (y + ½)·2/4 − ½ = −¼, ¼, ¾, 1¼ → clamped 0, ¼, ¾, 1.
    const got = resizeImages(Float64Array.from([0, 4, 8, 12]), 1, {
      height: 2,
      width: 2,
      channels: 1,
      outHeight: 4,
      outWidth: 4,
      method: 'bilinear',
    });
    assert.deepEqual(Array.from(got), [0, 1, 3, 4, 2, 3, 5, 6, 6, 7, 9, 10, 8, 9, 11, 12]);
  });

  const cases: {
    from: [number, number];
    to: [number, number];
    method: ResizeMethod;
  }[] = [
    { from: [5, 7], to: [9, 12], method: 'bilinear' },
    { from: [9, 12], to: [4, 5], method: 'bilinear' },
    { from: [28, 28], to: [32, 32], method: 'bilinear' },
    { from: [5, 7], to: [9, 12], method: 'nearest' },
    { from: [9, 12], to: [4, 5], method: 'nearest' },
  ];
  for (const { from, to, method } of cases) {
    it(`${method} ${from.join('×')} → ${to.join('×')} (2 images, 3 channels) equals tf.image's`, async () => {
      const [count, c] = [2, 3];
      const values = Float64Array.from({ length: count * from[0] * from[1] * c }, () =>
        rng.int(256),
      );
      const geometry = {
        height: from[0],
        width: from[1],
        channels: c,
        outHeight: to[0],
        outWidth: to[1],
        method,
      };
      const got = resizeImages(values, count, geometry);
      const want = await tfjsResize(values, [count, from[0], from[1], c], to, method);
      assert.equal(got.length, want.length);
      // tfjs works in float32: values up to 255, so a few ulps of 255.
      expectArraysClose(got, want, method === 'nearest' ? 0 : 1e-4);
      // 8-bit data: the same sampling, rounded to the nearest value.
      const bytes = resizeImages(Uint8Array.from(values), count, geometry);
      assert.ok(bytes instanceof Uint8Array);
      assert.deepEqual(
        Array.from(bytes),
        Array.from(got, (v) => Math.round(v)),
      );
    });
  }

  // 2 images of 3×4 pixels, 1 channel, in an IDX file.
  const [N, H, W] = [2, 3, 4];
  const pixels = Uint8Array.from({ length: N * H * W }, () => rng.int(256));
  function idxDir(): string {
    const dir = tempDir('scalpel-resize-');
    writeIdx(join(dir, 'images'), 'uint8', [N, H, W], pixels);
    writeIdx(join(dir, 'labels'), 'uint8', [N], [0, 1]);
    return dir;
  }
  const files = { train: { images: 'images', labels: 'labels' } };

  it('resizes before padding and normalising, keeps 8-bit storage, records image.resize', async () => {
    const dir = idxDir();
    const { ctx } = await runStage(
      loadDatasetStage,
      {
        source: 'idx',
        files,
        flatten: false,
        resize: { to: [6, 8] },
        pad: { to: [8, 9] },
        normalize: { mean: 0.5, std: 0.5 },
      },
      { recipeDir: dir },
    );
    const s = requireSplit(await readDatasetArtifact(ctx.outDir), 'train');
    assert.deepEqual(s.sampleShape, [8, 9, 1]);
    const resized = await tfjsResize(pixels, [N, H, W, 1], [6, 8], 'bilinear');
    // 8 − 6 = 2 rows: 1 on top, 1 below; 9 − 8 = 1 column: none left, 1 right.
    for (let n = 0; n < N; n++)
      for (let y = 0; y < 8; y++)
        for (let x = 0; x < 9; x++) {
          const inside = y >= 1 && y < 7 && x < 8;
          const p = inside ? Math.round(resized[(n * 6 + y - 1) * 8 + x] as number) : 0;
          const want = Math.fround((p / 255 - 0.5) / 0.5);
          const got = s.x[(n * 8 + y) * 9 + x];
          assert.ok(Object.is(got, want), `(${n}, ${y}, ${x}): ${got} vs ${want}`);
        }
    const meta = await readDatasetManifest(ctx.outDir);
    assert.equal(meta.splits[0]?.x.dtype, 'uint8');
    assert.deepEqual(meta.image?.resize, { height: 6, width: 8, method: 'bilinear' });
    assert.deepEqual([meta.image?.sourceHeight, meta.image?.sourceWidth], [H, W]);
    assert.deepEqual(meta.image?.padding, { top: 1, bottom: 1, left: 0, right: 1 });
  });

  it('refuses resize on flat samples and a pad smaller than the resized image', async () => {
    const dir = idxDir();
    await assert.rejects(
      runStage(
        loadDatasetStage,
        { source: 'idx', files, flatten: true, resize: { to: 8 } },
        { recipeDir: dir },
      ),
      (e: unknown) => {
        assert.ok(isScalpelError(e), String(e));
        assert.match(e.format(), /resize needs image samples.*flatten: false/s);
        return true;
      },
    );
    await assert.rejects(
      runStage(
        loadDatasetStage,
        { source: 'idx', files, flatten: false, resize: { to: 8 }, pad: { to: 6 } },
        { recipeDir: dir },
      ),
      (e: unknown) => {
        assert.ok(isScalpelError(e), String(e));
        assert.match(e.format(), /pad\.to \[6, 6\] is smaller than the 8×8 images of .*resized/s);
        return true;
      },
    );
  });
});
