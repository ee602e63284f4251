// Which weights of a layer one iCBS step re-decides (docs: icbs.md, "Block selection"): the k most
// doubtful pruned weights (highest score first) and the blockSize − k most doubtful kept ones
// (lowest score first), skipping frozen and tabu weights; random selection shuffles instead.
// A layer whose non-frozen weights fit in one block is taken whole. When too few candidates of a
// kind are outside the tabu list, its oldest entries are released early (releaseTabuFor).
import type { Rng } from '../util/rng.js';
import type { QuboGroups } from '../plugin-api/solver.js';
import type { LayerState } from './layer-state.js';
import { topKBy } from './top-k.js';

export interface Block {
  /** Flat kernel indices: the k currently pruned first, then the currently kept. */
  readonly indices: Int32Array;
  /** Number of currently pruned entries (the cardinality the block keeps). */
  readonly k: number;
  /** True when the whole (non-frozen) layer is the block. */
  readonly wholeLayer: boolean;
  /** Tabu entries released early so that the block could be filled. */
  readonly evicted: number;
  /** N:M blocks (group-selection.ts): the group of every variable and each group's ones. */
  readonly groups?: QuboGroups;
}

/**
 * Release the oldest tabu entries until enough pruned and kept candidates are outside the list:
 * the FIFO must not starve a block (in a sparse layer the few kept weights would all be tabu
 * after a handful of steps, and every later block would have nothing to swap).
 */
function releaseTabuFor(state: LayerState, blockSize: number, k: number): number {
  const { tabu, frozen, pruned } = state;
  if (!tabu.enabled || tabu.length === 0) return 0;
  let freeP = 0;
  let freeK = 0;
  let availP = 0;
  let availK = 0;
  for (let j = 0; j < state.size; j++) {
    if (frozen[j] === 1) continue;
    const p = pruned[j] === 1;
    if (p) freeP++;
    else freeK++;
    if (!tabu.has(j)) {
      if (p) availP++;
      else availK++;
    }
  }
  const needP = Math.min(k, freeP);
  const needK = Math.min(blockSize - needP, freeK);
  let evicted = 0;
  while (availP < needP || availK < needK) {
    const out = tabu.evictOldest();
    if (out === undefined) break;
    evicted++;
    if (out.released && frozen[out.index] === 0) {
      if (pruned[out.index] === 1) availP++;
      else availK++;
    }
  }
  return evicted;
}

/** Pruned and kept candidates (non-frozen, not tabu unless `ignoreTabu`), in increasing index order. */
function candidates(
  state: LayerState,
  ignoreTabu: boolean,
): { pruned: Int32Array; kept: Int32Array } {
  const { size, frozen, tabu } = state;
  const isPruned = state.pruned;
  const pruned = new Int32Array(size);
  const kept = new Int32Array(size);
  let np = 0;
  let nk = 0;
  const checkTabu = !ignoreTabu && tabu.enabled;
  for (let j = 0; j < size; j++) {
    if (frozen[j] === 1 || (checkTabu && tabu.has(j))) continue;
    if (isPruned[j] === 1) pruned[np++] = j;
    else kept[nk++] = j;
  }
  return { pruned: pruned.subarray(0, np), kept: kept.subarray(0, nk) };
}

function firstOfShuffled(c: Int32Array, count: number, rng: Rng): Int32Array {
  const copy = Int32Array.from(c);
  // Partial Fisher–Yates: the first `count` entries become a uniform random subset.
  const m = Math.min(count, copy.length);
  for (let t = 0; t < m; t++) {
    const r = t + rng.int(copy.length - t);
    const v = copy[t] as number;
    copy[t] = copy[r] as number;
    copy[r] = v;
  }
  return copy.subarray(0, m).sort();
}

/**
 * Select the block of one step. `scores` (length = layer size) ranks the weights for score-based
 * selection; undefined means random selection with `rng`.
 */
export function selectBlock(
  state: LayerState,
  scores: ArrayLike<number> | undefined,
  blockSize: number,
  k: number,
  rng: Rng,
): Block {
  if (state.freeCount() <= blockSize) {
    const all = candidates(state, true);
    const indices = new Int32Array(all.pruned.length + all.kept.length);
    indices.set(all.pruned, 0);
    indices.set(all.kept, all.pruned.length);
    return { indices, k: all.pruned.length, wholeLayer: true, evicted: 0 };
  }
  const evicted = releaseTabuFor(state, blockSize, k);
  const c = candidates(state, false);
  const kp = Math.min(k, c.pruned.length);
  const m = Math.min(blockSize - kp, c.kept.length);
  const pick = (set: Int32Array, count: number, sign: 1 | -1): Int32Array =>
    scores === undefined ? firstOfShuffled(set, count, rng) : topKBy(set, scores, count, sign);
  // Pruned: highest scores first (the best candidates to revive); kept: lowest first.
  const prunedPick = pick(c.pruned, kp, 1);
  const keptPick = pick(c.kept, m, -1);
  const indices = new Int32Array(prunedPick.length + keptPick.length);
  indices.set(prunedPick, 0);
  indices.set(keptPick, prunedPick.length);
  return { indices, k: prunedPick.length, wholeLayer: false, evicted };
}
