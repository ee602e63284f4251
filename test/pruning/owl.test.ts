// owlDensities against a hand-worked example and against a float64 reference written here from
// the OWL formulas (outlier ratio D = share of |W|·‖X‖ above M × mean; min–max to [0, 2λ]; shift
// to the parameter-weighted target), plus the Dmax = Dmin and out-of-range cases.
import assert from 'node:assert/strict';
import { isScalpelError } from '../../src/errors.js';
import { outlierRatio, owlDensities, type OwlBlockInput } from '../../src/pruning/owl.js';
import { Rng } from '../../src/util/rng.js';
import { expectArraysClose } from '../helpers/expect-arrays-close.js';

/** One layer [fanIn, units] from row-major weights and per-input norms. */
function layer(name: string, weights: number[], inputNorms: number[]) {
  return {
    name,
    weights: Float32Array.from(weights),
    inputNorms: Float32Array.from(inputNorms),
    units: weights.length / inputNorms.length,
  };
}

/** The formulas, in float64, independently of src/pruning/owl.ts. */
function reference(
  blocks: readonly OwlBlockInput[],
  target: number,
  M: number,
  lambda: number,
): { ratios: number[]; densities: number[] } {
  const ratios = blocks.map((b) => {
    const scores: number[] = [];
    for (const l of b.layers) {
      const fanIn = l.inputNorms.length;
      for (let i = 0; i < fanIn; i++)
        for (let o = 0; o < l.units; o++)
          scores.push(Math.abs(l.weights[i * l.units + o] as number) * (l.inputNorms[i] as number));
    }
    const mean = scores.reduce((a, s) => a + s, 0) / scores.length;
    return scores.filter((s) => s > M * mean).length / scores.length;
  });
  const sizes = blocks.map((b) => b.layers.reduce((a, l) => a + l.weights.length, 0));
  const lo = Math.min(...ratios);
  const hi = Math.max(...ratios);
  const scaled = ratios.map((d) => (hi === lo ? 0 : ((d - lo) / (hi - lo)) * 2 * lambda));
  const total = sizes.reduce((a, n) => a + n, 0);
  const mean = scaled.reduce((a, s, i) => a + s * (sizes[i] as number), 0) / total;
  return { ratios, densities: scaled.map((s) => s - mean + target) };
}

function randomBlocks(rng: Rng, shapes: [string, [number, number][]][]): OwlBlockInput[] {
  return shapes.map(([block, layers]) => ({
    block,
    layers: layers.map(([fanIn, units], k) => {
      const w = Array.from({ length: fanIn * units }, () => rng.normal());
      // Heavy-tailed norms (a few large input features): the outlier counts differ per block.
      const norms = Array.from({ length: fanIn }, () => Math.exp(1.5 * rng.normal()));
      return layer(`${block}.l${k}`, w, norms);
    }),
  }));
}

describe('owl: outlier-weighted layer-wise densities', () => {
  it('a hand-worked example with unequal block sizes', () => {
    // M = 1.5. A: scores 1,1,1,10 → mean 3.25, threshold 4.875 → D = 1/4.
    // B (2×4): eight 1s → D = 0.  C: scores 1,1,10,10 → mean 5.5, threshold 8.25 → D = 1/2.
    // λ = 0.1: scaled A 0.1, B 0, C 0.2; parameter-weighted mean (4·0.1 + 8·0 + 4·0.2)/16 =
    // 0.075 (the plain mean would be 0.1); target 0.5 → shift 0.425.
    const blocks: OwlBlockInput[] = [
      { block: 'A', layers: [layer('a', [1, 1, 1, 10], [1, 1, 1, 1])] },
      { block: 'B', layers: [layer('b', [1, 1, 1, 1, 1, 1, 1, 1], [1, 1])] },
      { block: 'C', layers: [layer('c', [1, 1, 10, 10], [1, 1, 1, 1])] },
    ];
    const r = owlDensities(blocks, { target: 0.5, M: 1.5, lambda: 0.1 });
    assert.deepEqual(
      r.blocks.map((b) => [b.block, b.outlierRatio, b.params]),
      [
        ['A', 0.25, 4],
        ['B', 0, 8],
        ['C', 0.5, 4],
      ],
    );
    const want = [0.525, 0.425, 0.625];
    expectArraysClose(
      r.blocks.map((b) => b.density),
      want,
      1e-12,
      'densities',
    );
    assert.deepEqual([...r.layers.keys()], ['a', 'b', 'c']);
  });

  it('a score equal to M × mean is not an outlier; the norms scale the weights', () => {
    // scores 1·1, 3·1 → mean 2, M 1.5 → threshold 3: 3 is not above it.
    assert.equal(outlierRatio([layer('x', [1, 3], [1])], 1.5), 0);
    // weights [1, 1] with norms [1, 5] (fanIn 2, units 1): scores 1, 5 → mean 3 → 5 > 1.5·3.
    assert.equal(outlierRatio([layer('x', [1, 1], [1, 5])], 1.5), 0.5);
    // Negative weights count by magnitude.
    assert.equal(outlierRatio([layer('x', [-1, 1, 1, -9], [1, 1, 1, 1])], 2), 0.25);
  });

  it('matches the float64 reference on random blocks of unequal size (several layers each)', () => {
    const rng = new Rng(5);
    const blocks = randomBlocks(rng, [
      [
        'h.0',
        [
          [8, 6],
          [6, 8],
        ],
      ],
      [
        'h.1',
        [
          [8, 6],
          [6, 8],
        ],
      ],
      [
        'h.2',
        [
          [8, 6],
          [6, 8],
        ],
      ],
      ['classifier', [[8, 3]]],
    ]);
    for (const [target, M, lambda] of [
      [0.5, 2, 0.08],
      [0.3, 3, 0.2],
      [0.7, 1.5, 0.05],
    ] as const) {
      const ref = reference(blocks, target, M, lambda);
      assert.ok(new Set(ref.ratios).size > 1, 'the blocks differ in their outlier ratios');
      const r = owlDensities(blocks, { target, M, lambda });
      expectArraysClose(
        r.blocks.map((b) => b.density),
        ref.densities,
        1e-12,
        `densities (target ${target})`,
      );
      r.blocks.forEach((b, i) => {
        assert.equal(b.outlierRatio, ref.ratios[i]);
        for (const l of blocks[i]?.layers ?? []) assert.equal(r.layers.get(l.name), b.density);
      });
      // The kept weights total target × all weights (before per-layer rounding).
      const kept = r.blocks.reduce((a, b) => a + b.density * b.params, 0);
      const all = r.blocks.reduce((a, b) => a + b.params, 0);
      assert.ok(Math.abs(kept - target * all) < 1e-9);
      // Densities span exactly 2λ: the max-outlier block at the top, the min at the bottom.
      const ds = r.blocks.map((b) => b.density);
      assert.ok(Math.abs(Math.max(...ds) - Math.min(...ds) - 2 * lambda) < 1e-12);
    }
  });

  it('equal-sized blocks: the plain mean is the target (the reference code)', () => {
    const rng = new Rng(8);
    const blocks = randomBlocks(rng, [
      ['b0', [[10, 4]]],
      ['b1', [[10, 4]]],
      ['b2', [[10, 4]]],
      ['b3', [[10, 4]]],
    ]);
    const r = owlDensities(blocks, { target: 0.4, M: 2, lambda: 0.1 });
    const mean = r.blocks.reduce((a, b) => a + b.density, 0) / r.blocks.length;
    assert.ok(Math.abs(mean - 0.4) < 1e-12);
    assert.ok(new Set(r.blocks.map((b) => b.density)).size > 1);
  });

  it('all outlier ratios equal (Dmax = Dmin): every block gets the target', () => {
    const blocks: OwlBlockInput[] = [
      { block: 'A', layers: [layer('a', [1, 1, 1, 10], [1, 1, 1, 1])] },
      { block: 'B', layers: [layer('b', [2, 20, 2, 2, 2, 2, 2, 20], [1, 1])] },
    ];
    const r = owlDensities(blocks, { target: 0.35, M: 2, lambda: 0.1 });
    assert.deepEqual(
      r.blocks.map((b) => [b.outlierRatio, b.density]),
      [
        [0.25, 0.35],
        [0.25, 0.35],
      ],
    );
  });

  it('a density outside [0, 1] is E_RECIPE_SCHEMA naming the stage, the block and the value', () => {
    const blocks: OwlBlockInput[] = [
      { block: 'A', layers: [layer('a', [1, 1, 1, 10], [1, 1, 1, 1])] },
      { block: 'B', layers: [layer('b', [1, 1, 1, 1], [1, 1, 1, 1])] },
    ];
    // Equal sizes: A gets target + λ = 1.05.
    assert.throws(
      () => owlDensities(blocks, { target: 0.95, M: 2, lambda: 0.1, stageId: 'prune' }),
      (e: unknown) => {
        assert.ok(isScalpelError(e));
        assert.equal(e.code, 'E_RECIPE_SCHEMA');
        assert.match(e.message, /stage 'prune'.*block 'A' the density 1\.0500/);
        assert.match(e.hint ?? '', /lower lambda/);
        return true;
      },
    );
    // B gets target − λ = −0.05.
    assert.throws(
      () => owlDensities(blocks, { target: 0.05, M: 2, lambda: 0.1 }),
      (e: unknown) => isScalpelError(e) && /block 'B' the density -0\.0500/.test(e.message),
    );
    // Exactly at the edge is fine: target 0.9, λ 0.1 → A at 1.
    const r = owlDensities(blocks, { target: 0.9, M: 2, lambda: 0.1 });
    assert.equal(r.blocks[0]?.density, 1);
  });
});
