// The seeded generator every stage, pruner and forward pass receives (`ctx.rng`, `args.rng`,
// `hooks.rng`). Declared here so the plugin contract owns it; src/util/rng.ts implements it
// (xoroshiro128+), and randomness in scalpel comes only from there.

/** Where a generator is in its stream (JSON-safe): training checkpoints record it to resume. */
export interface RngState {
  readonly seed: number;
  /** The four 32-bit words of the xoroshiro128+ state. */
  readonly words: readonly number[];
}

/** A seeded random stream. Equal seeds give equal streams on every platform. */
export interface Rng {
  readonly seed: number;
  /**
   * A new independent generator whose seed depends on this one's seed and `label`: fork one per
   * component so that adding a draw in one does not shift the stream of another.
   */
  fork(label: string): Rng;
  /** Uniform 32-bit unsigned integer. */
  nextUint32(): number;
  /** Uniform float in [0, 1) with 53 random bits. */
  float(): number;
  /** Uniform integer in [0, n) without modulo bias (n an integer in [1, 2^32]). */
  int(n: number): number;
  /** Standard normal deviate. */
  normal(): number;
  /** Fisher–Yates shuffle in place; returns the same array. */
  shuffle<T extends { length: number; [i: number]: unknown }>(a: T): T;
  /** A random permutation of 0..n-1. */
  permutation(n: number): Int32Array;
  /** The current position in the stream; `restore` continues from exactly here. */
  snapshot(): RngState;
  /** Jump to a position taken by `snapshot` of a generator with the same seed. */
  restore(state: RngState): void;
}
