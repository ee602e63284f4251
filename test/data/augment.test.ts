// Augmentation ops against a literal construction written here: pad the image by p on every side
// with the fill value into a (H+2p)×(W+2p) canvas, cut the window at (p+dy, p+dx), mirror its
// columns when flipped. Plus: flip twice is the identity, and the draws follow the seed.
import { strict as assert } from 'node:assert';
import { augmentImage, BatchAugmenter, type AugmentDraw } from '../../src/data/augment.js';
import type { ImageInfo, Samples } from '../../src/plugin-api/dataset.js';
import { Rng } from '../../src/util/rng.js';

const [H, W, C] = [4, 5, 2];

function image(layout: 'hwc' | 'chw'): ImageInfo {
  return {
    layout,
    height: H,
    width: W,
    channels: C,
    sourceHeight: H,
    sourceWidth: W,
    padding: { top: 0, bottom: 0, left: 0, right: 0 },
    fill: [-1.5, -2.5],
    normalization: 'test',
  };
}

const index = (layout: 'hwc' | 'chw', y: number, x: number, c: number): number =>
  layout === 'hwc' ? (y * W + x) * C + c : (c * H + y) * W + x;

/** The reference: an explicit padded canvas, a window cut from it, columns mirrored. */
function reference(
  src: Float32Array,
  layout: 'hwc' | 'chw',
  p: number,
  d: AugmentDraw,
): Float32Array {
  const fill = image(layout).fill;
  const ph = H + 2 * p;
  const pw = W + 2 * p;
  const canvas: number[][][] = [];
  for (let c = 0; c < C; c++) {
    canvas.push([]);
    for (let y = 0; y < ph; y++) {
      canvas[c]!.push([]);
      for (let x = 0; x < pw; x++) {
        const inside = y >= p && y < p + H && x >= p && x < p + W;
        canvas[c]![y]!.push(inside ? src[index(layout, y - p, x - p, c)]! : fill[c]!);
      }
    }
  }
  const out = new Float32Array(H * W * C);
  for (let c = 0; c < C; c++)
    for (let y = 0; y < H; y++) {
      const row = canvas[c]![p + d.dy + y]!.slice(p + d.dx, p + d.dx + W);
      if (d.flip) row.reverse();
      for (let x = 0; x < W; x++) out[index(layout, y, x, c)] = row[x]!;
    }
  return out;
}

function randomImage(seed: number): Float32Array {
  const rng = new Rng(seed);
  return Float32Array.from({ length: H * W * C }, () => rng.normal());
}

describe('augmentation ops', () => {
  for (const layout of ['hwc', 'chw'] as const) {
    it(`crop with padding and flip equal the padded-canvas construction (${layout})`, () => {
      const p = 2;
      const src = randomImage(1);
      for (let dy = -p; dy <= p; dy++)
        for (let dx = -p; dx <= p; dx++)
          for (const flip of [false, true]) {
            const out = new Float32Array(src.length);
            augmentImage(src, out, image(layout), { dy, dx, flip });
            assert.deepEqual(
              out,
              reference(src, layout, p, { dy, dx, flip }),
              `dy ${dy}, dx ${dx}, flip ${flip}`,
            );
          }
    });
  }

  it('flipping twice gives the image back; no shift and no flip is the identity', () => {
    for (const layout of ['hwc', 'chw'] as const) {
      const src = randomImage(2);
      const once = new Float32Array(src.length);
      const twice = new Float32Array(src.length);
      augmentImage(src, once, image(layout), { dy: 0, dx: 0, flip: true });
      augmentImage(once, twice, image(layout), { dy: 0, dx: 0, flip: true });
      assert.notDeepEqual(once, src);
      assert.deepEqual(twice, src);
      const same = new Float32Array(src.length);
      augmentImage(src, same, image(layout), { dy: 0, dx: 0, flip: false });
      assert.deepEqual(same, src);
    }
  });

  it('BatchAugmenter: the same seed gives the same batches, another seed others; draws cover [−p, p] and both flips', () => {
    const count = 6;
    const rng = new Rng(3);
    const samples: Samples = {
      count,
      sampleShape: [H, W, C],
      x: Float32Array.from({ length: count * H * W * C }, () => rng.normal()),
      y: Int32Array.from({ length: count }, (_, i) => i % 3),
      ids: Int32Array.from({ length: count }, (_, i) => 100 + i),
    };
    const options = { randomCrop: { padding: 3 }, horizontalFlip: true };
    const batches = (seed: number): Samples[] => {
      const a = new BatchAugmenter(options, image('hwc'), new Rng(seed));
      return [a.gather(samples, [5, 0, 2]), a.gather(samples, [1, 1, 4])];
    };
    const [a, b, c] = [batches(7), batches(7), batches(8)];
    assert.deepEqual(a, b);
    assert.notDeepEqual(a[0]?.x, c[0]?.x);
    assert.deepEqual(Array.from(a[0]?.ids ?? []), [105, 100, 102]);
    assert.deepEqual(Array.from(a[1]?.y ?? []), [1, 1, 1]);
    // Each sample is the reference augmentation of its source with the draw the stream gives.
    const replay = new BatchAugmenter(options, image('hwc'), new Rng(7));
    const size = H * W * C;
    [5, 0, 2].forEach((row, k) => {
      const d = replay.draw();
      const want = reference(samples.x.subarray(row * size, (row + 1) * size), 'hwc', 3, d);
      assert.deepEqual(a[0]?.x.subarray(k * size, (k + 1) * size), want);
    });
    const draws = new BatchAugmenter(options, image('hwc'), new Rng(9));
    const seen = { dy: new Set<number>(), dx: new Set<number>(), flip: new Set<boolean>() };
    for (let i = 0; i < 500; i++) {
      const d = draws.draw();
      seen.dy.add(d.dy);
      seen.dx.add(d.dx);
      seen.flip.add(d.flip);
    }
    assert.deepEqual(
      [...seen.dy].sort((x, y) => x - y),
      [-3, -2, -1, 0, 1, 2, 3],
    );
    assert.deepEqual(
      [...seen.dx].sort((x, y) => x - y),
      [-3, -2, -1, 0, 1, 2, 3],
    );
    assert.equal(seen.flip.size, 2);
    // Only the enabled ops draw: flip only never shifts.
    const flipOnly = new BatchAugmenter({ horizontalFlip: true }, image('hwc'), new Rng(9));
    for (let i = 0; i < 20; i++)
      assert.deepEqual({ ...flipOnly.draw(), flip: false }, { dy: 0, dx: 0, flip: false });
  });
});
