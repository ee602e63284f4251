// select-mask against brute force: sort every group by (score desc, index asc) and keep the first
// round-half-up(density·size). Scores are quantised to few values so that ties are common.
import assert from 'node:assert/strict';
import { Rng } from '../../src/util/rng.js';
import {
  countKept,
  keepCount,
  selectGlobalMasks,
  selectMask,
  selectPatternMask,
} from '../../src/pruning/select-mask.js';

function randomScores(rng: Rng, n: number, levels: number): Float32Array {
  const s = new Float32Array(n);
  for (let j = 0; j < n; j++) s[j] = Math.floor(rng.float() * levels) - levels / 2;
  return s;
}

/** Keep the `k` best of `indices` by (score desc, index asc): the definition, written plainly. */
function bruteKeep(
  scores: ArrayLike<number>,
  indices: number[],
  k: number,
  mask: Uint8Array,
): void {
  const order = [...indices].sort((a, b) => {
    const sa = scores[a] ?? 0;
    const sb = scores[b] ?? 0;
    return sa !== sb ? sb - sa : a - b;
  });
  for (const j of order.slice(0, k)) mask[j] = 1;
}

const range = (n: number): number[] => Array.from({ length: n }, (_, i) => i);
const shapes = [
  { fanIn: 8, units: 5 },
  { fanIn: 12, units: 1 },
  { fanIn: 1, units: 7 },
  { fanIn: 16, units: 9 },
];
const densities = [0, 0.05, 0.1, 0.25, 0.3, 0.5, 0.7, 0.99, 1];

describe('select-mask', () => {
  it('keepCount rounds half up with float tolerance', () => {
    assert.equal(keepCount(0.15, 10), 2); // 0.15·10 = 1.4999999999999998 in float64
    assert.equal(keepCount(0.25, 10), 3);
    assert.equal(keepCount(0.24, 10), 2);
    assert.equal(keepCount(0.3, 7), 2);
    assert.equal(keepCount(1, 5), 5);
    assert.equal(keepCount(0, 5), 0);
    assert.throws(() => keepCount(1.2, 5));
  });

  it('layer / per-output / per-input masks equal a brute-force sort', () => {
    const rng = new Rng(7);
    for (const shape of shapes) {
      const n = shape.fanIn * shape.units;
      for (const levels of [3, 1000]) {
        const scores = randomScores(rng, n, levels);
        for (const density of densities) {
          const layer = new Uint8Array(n);
          bruteKeep(scores, range(n), keepCount(density, n), layer);
          assert.deepEqual(selectMask(scores, shape, { density }), layer);
          assert.equal(countKept(layer), keepCount(density, n));

          const perOut = new Uint8Array(n);
          for (let o = 0; o < shape.units; o++) {
            const col = range(shape.fanIn).map((i) => i * shape.units + o);
            bruteKeep(scores, col, keepCount(density, shape.fanIn), perOut);
          }
          assert.deepEqual(
            selectMask(scores, shape, { density, granularity: 'per-output' }),
            perOut,
          );

          const perIn = new Uint8Array(n);
          for (let i = 0; i < shape.fanIn; i++) {
            const row = range(shape.units).map((o) => i * shape.units + o);
            bruteKeep(scores, row, keepCount(density, shape.units), perIn);
          }
          assert.deepEqual(selectMask(scores, shape, { density, granularity: 'per-input' }), perIn);
        }
      }
    }
  });

  it('N:M keeps exactly N in every group of M input rows, the best ones', () => {
    const rng = new Rng(11);
    const shape = { fanIn: 16, units: 6 };
    for (const [keep, of] of [
      [2, 4],
      [4, 8],
      [1, 2],
      [0, 4],
      [4, 4],
    ] as const) {
      const scores = randomScores(rng, 96, 4);
      const mask = selectPatternMask(scores, shape, { keep, of });
      const expected = new Uint8Array(96);
      for (let o = 0; o < shape.units; o++) {
        for (let g = 0; g < shape.fanIn; g += of) {
          const group = range(of).map((t) => (g + t) * shape.units + o);
          bruteKeep(scores, group, keep, expected);
          assert.equal(
            group.reduce((a, j) => a + (mask[j] ?? 0), 0),
            keep,
          );
        }
      }
      assert.deepEqual(mask, expected);
    }
    assert.throws(
      () =>
        selectPatternMask(new Float32Array(10 * 2), { fanIn: 10, units: 2 }, { keep: 2, of: 4 }),
      /divisible by 4/,
    );
  });

  it('global keeps round(Σ d·size) over all layers with one threshold', () => {
    const rng = new Rng(3);
    const a = randomScores(rng, 40, 5);
    const b = randomScores(rng, 24, 5);
    for (const density of densities) {
      const masks = selectGlobalMasks([
        { name: 'a', scores: a, density },
        { name: 'b', scores: b, density },
      ]);
      const all = Float64Array.from([...a, ...b]);
      const joint = new Uint8Array(64);
      bruteKeep(all, range(64), keepCount(density, 64), joint);
      assert.deepEqual(masks.get('a'), joint.slice(0, 40));
      assert.deepEqual(masks.get('b'), joint.slice(40));
    }
  });

  it('NaN scores are pruned first', () => {
    const s = Float32Array.from([Number.NaN, 1, -5, Number.NaN]);
    assert.deepEqual(
      selectMask(s, { fanIn: 4, units: 1 }, { density: 0.5 }),
      Uint8Array.from([0, 1, 1, 0]),
    );
  });
});
