import { strict as assert } from 'node:assert';
import { createHash } from 'node:crypto';
import { Rng, deriveSeed } from '../../src/util/rng.js';

describe('Rng', () => {
  it('is deterministic per seed and nearby seeds give unrelated first draws', () => {
    assert.equal(new Rng(5).nextUint32(), new Rng(5).nextUint32());
    const firsts = Array.from({ length: 64 }, (_, s) => new Rng(s).float());
    const mean = firsts.reduce((a, b) => a + b, 0) / firsts.length;
    // 64 uniform draws: mean within ±0.15 of 0.5 with overwhelming probability (sd ≈ 0.036).
    assert.ok(Math.abs(mean - 0.5) < 0.15, `mean of first draws ${mean}`);
    assert.equal(new Set(firsts).size, 64);
  });

  it('int(n) is uniform: chi-square over 10 bins stays small', () => {
    const rng = new Rng(1);
    const counts = new Array<number>(10).fill(0);
    const draws = 100_000;
    for (let i = 0; i < draws; i++) counts[rng.int(10)]! += 1;
    const expected = draws / 10;
    const chi2 = counts.reduce((a, c) => a + (c - expected) ** 2 / expected, 0);
    assert.ok(chi2 < 30, `chi2 ${chi2}`); // 9 dof: p(chi2 > 30) ≈ 4e-4
  });

  it('shuffle is a permutation', () => {
    const p = new Rng(3).permutation(100);
    assert.deepEqual(
      [...p].sort((a, b) => a - b),
      Array.from({ length: 100 }, (_, i) => i),
    );
  });

  it('fork returns a new generator: drawing from it leaves the parent stream alone', () => {
    const draws = (r: Rng, n = 8): number[] => Array.from({ length: n }, () => r.nextUint32());
    const parent = new Rng(3);
    const child = parent.fork('child');
    assert.notEqual(child, parent, 'fork must not return this');
    const childDraws = draws(child);
    // The parent still starts where a fresh generator of its seed starts.
    assert.deepEqual(draws(parent), draws(new Rng(3)));
    // The child is the generator of the derived seed, whatever the parent drew before forking.
    assert.deepEqual(childDraws, draws(new Rng(deriveSeed(3, 'child'))));
    assert.deepEqual(childDraws, draws(parent.fork('child')));
    assert.notDeepEqual(childDraws, draws(new Rng(3).fork('other')), 'labels give other streams');
    assert.notDeepEqual(childDraws, draws(new Rng(3)), 'not the parent stream');
  });
});

// Reference: xoroshiro128+ (Blackman & Vigna, rotations 24/16/37) on 64-bit BigInt state, seeded
// as pure-rand seeds it (s0 = 0xffffffff:~seed, s1 = seed:0) from the sha256-derived seed, 8
// outputs dropped; an output is the low 32 bits of s0 + s1.
const mask64 = (1n << 64n) - 1n;
const rotl = (x: bigint, k: bigint): bigint => ((x << k) | (x >> (64n - k))) & mask64;
const sha256Seed = (seed: number, label: string): number =>
  createHash('sha256').update(`${seed}\u0000${label}`).digest().readUInt32LE(0) | 0;

function referenceStream(seed: number): () => number {
  const s = BigInt.asUintN(32, BigInt(sha256Seed(seed | 0, 'xoroshiro128plus')));
  let s0 = (0xffffffffn << 32n) | (~s & 0xffffffffn);
  let s1 = s << 32n;
  const next = (): number => {
    const out = Number((s0 + s1) & 0xffffffffn);
    s1 ^= s0;
    s0 = rotl(s0, 24n) ^ s1 ^ ((s1 << 16n) & mask64);
    s1 = rotl(s1, 37n);
    return out;
  };
  for (let i = 0; i < 8; i++) next();
  return next;
}

// GOLDEN VALUES: they pin the random stream. Every recorded run (masks, shuffles, initial
// weights, cache hashes of seeded nodes) is reproducible only while these stay the same: a change
// here breaks the reproducibility of every run ever recorded. Do not update them to make a test
// pass; a new generator needs a new seed scheme and a major version.
const goldenUint32Seed42 = [2046299050, 3548414119, 1485824720, 244661738, 2836062761, 2805099723];
const goldenUint32Seed42ForkData = [449701185, 4234329567, 1200467577, 716227716];
const goldenFloatSeed7 = [0.9455421399489741, 0.8256125376059711, 0.6214937143568271];
const goldenNormalSeed7 = [0.15307644252402097, 0.9453300758926614, -0.9068529934153161];

describe('Rng stream (golden values)', () => {
  it('nextUint32 of seed 42 and of its fork "data"', () => {
    const rng = new Rng(42);
    assert.deepEqual(
      goldenUint32Seed42.map(() => rng.nextUint32()),
      goldenUint32Seed42,
    );
    const fork = new Rng(42).fork('data');
    assert.deepEqual(
      goldenUint32Seed42ForkData.map(() => fork.nextUint32()),
      goldenUint32Seed42ForkData,
    );
  });

  it('float and normal of seed 7 (bit-exact)', () => {
    const f = new Rng(7);
    assert.deepEqual(
      goldenFloatSeed7.map(() => f.float()),
      goldenFloatSeed7,
    );
    const n = new Rng(7);
    assert.deepEqual(
      goldenNormalSeed7.map(() => n.normal()),
      goldenNormalSeed7,
    );
  });

  it('the golden values are xoroshiro128+ computed independently (BigInt reference)', () => {
    const ref = referenceStream(42);
    assert.deepEqual(
      goldenUint32Seed42.map(() => ref()),
      goldenUint32Seed42,
    );
    const refFork = referenceStream(sha256Seed(42, 'data'));
    assert.deepEqual(
      goldenUint32Seed42ForkData.map(() => refFork()),
      goldenUint32Seed42ForkData,
    );
    // float: 27 high bits of one draw and 26 of the next over 2^53; normal: Box–Muller on them.
    const r7 = referenceStream(7);
    const float = (): number => ((r7() >>> 5) * 67108864 + (r7() >>> 6)) / 9007199254740992;
    assert.deepEqual(
      goldenFloatSeed7.map(() => float()),
      goldenFloatSeed7,
    );
    const n7 = referenceStream(7);
    const u = (): number => ((n7() >>> 5) * 67108864 + (n7() >>> 6)) / 9007199254740992;
    const normal = (): number => {
      let a = 0;
      while (a === 0) a = u();
      return Math.sqrt(-2 * Math.log(a)) * Math.cos(2 * Math.PI * u());
    };
    assert.deepEqual(
      goldenNormalSeed7.map(() => normal()),
      goldenNormalSeed7,
    );
  });
});
