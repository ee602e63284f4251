// The only source of randomness in scalpel: a seeded xoroshiro128+ generator (pure-rand), used
// in place (unsafe* API) because pipelines draw millions of numbers. Derive child generators with
// `fork(label)` so that adding a draw in one component does not shift the stream of another.
import { xoroshiro128plus, xoroshiro128plusFromState } from 'pure-rand/generator/xoroshiro128plus';
import { createHash } from 'node:crypto';
import type { Rng as RngContract, RngState } from '../plugin-api/rng.js';

export type { RngState };

type Generator = ReturnType<typeof xoroshiro128plus>;

/** A 32-bit seed derived from a parent seed and a label (stable across runs and platforms). */
export function deriveSeed(seed: number, label: string): number {
  const h = createHash('sha256').update(`${seed}\u0000${label}`).digest();
  return h.readUInt32LE(0) | 0;
}

/**
 * `Rng` the type is the plugin contract (src/plugin-api/rng.ts); `Rng` the value (bottom of this
 * file) constructs its one implementation, so `new Rng(seed)` and a stage's `ctx.rng` have the
 * same type (a class type with a private field would not accept the contract's values).
 */
export type Rng = RngContract;

/** xoroshiro128+, seeded through sha256 (see the constructor). */
class SeededRng implements RngContract {
  private gen: Generator;
  readonly seed: number;

  constructor(seed: number) {
    this.seed = seed | 0;
    // xoroshiro128+ seeded straight from a small integer starts with outputs that follow the
    // seed closely; scramble the seed (sha256) and drop a few outputs so nearby seeds diverge.
    this.gen = xoroshiro128plus(deriveSeed(this.seed, 'xoroshiro128plus'));
    for (let i = 0; i < 8; i++) this.gen.next();
  }

  /** The current position in the stream; `restore` continues from exactly here. */
  snapshot(): RngState {
    return { seed: this.seed, words: [...this.gen.getState()] };
  }

  /** Jump to a position taken by `snapshot` of a generator with the same seed (so forks agree). */
  restore(state: RngState): void {
    const ok =
      state.seed === this.seed &&
      state.words.length === 4 &&
      state.words.every((w) => Number.isInteger(w) && w >= -0x80000000 && w <= 0x7fffffff);
    if (!ok) {
      throw new RangeError(
        `Rng.restore: state ${JSON.stringify(state)} is not a position of the stream of seed ${this.seed}`,
      );
    }
    this.gen = xoroshiro128plusFromState(state.words);
  }

  /** A new independent generator whose seed depends on this one's seed and `label`. */
  fork(label: string): Rng {
    return new SeededRng(deriveSeed(this.seed, label));
  }

  /** Uniform 32-bit unsigned integer. */
  nextUint32(): number {
    return this.gen.next() >>> 0;
  }

  /** Uniform float in [0, 1) with 53 random bits. */
  float(): number {
    const hi = this.nextUint32() >>> 5; // 27 bits
    const lo = this.nextUint32() >>> 6; // 26 bits
    return (hi * 67108864 + lo) / 9007199254740992;
  }

  /** Uniform integer in [0, n) without modulo bias. */
  int(n: number): number {
    if (!(n > 0) || n > 0x100000000 || !Number.isInteger(n)) {
      throw new RangeError(`Rng.int: n must be an integer in [1, 2^32], got ${n}`);
    }
    const limit = 0x100000000 - (0x100000000 % n);
    for (;;) {
      const v = this.nextUint32();
      if (v < limit) return v % n;
    }
  }

  /** Standard normal deviate (Box–Muller). */
  normal(): number {
    let u = 0;
    while (u === 0) u = this.float();
    const v = this.float();
    return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v);
  }

  /** Fisher–Yates shuffle in place; returns the same array. */
  shuffle<T extends { length: number; [i: number]: unknown }>(a: T): T {
    for (let i = a.length - 1; i > 0; i--) {
      const j = this.int(i + 1);
      const t = a[i];
      a[i] = a[j];
      a[j] = t;
    }
    return a;
  }

  /** A random permutation of 0..n-1. */
  permutation(n: number): Int32Array {
    const p = new Int32Array(n);
    for (let i = 0; i < n; i++) p[i] = i;
    return this.shuffle(p);
  }
}

export const Rng: new (seed: number) => Rng = SeededRng;
