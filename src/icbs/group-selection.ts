// Block selection in N:M mode (params.pattern): a block is a set of WHOLE N:M groups of one layer
// (a group is `of` consecutive input rows of one output unit, kernel index i·units + o, as in
// src/pruning/select-mask.ts), and the block QUBO keeps every group's number of pruned weights
// (plugin-api/solver.ts QuboGroups), so each group keeps exactly `keep` weights after the step.
//
// Frozen weights (fixing) stay out of the variables: a group contributes its free members and
// must keep its number of free pruned ones, which keeps its total. A group whose free members are
// all pruned or all kept has one feasible choice and is never selected.
//
// Aggregation of the selection score per group: inside a group the only feasible moves swap a
// kept and a pruned weight, so a group is as doubtful as the gap between its weakest free kept
// weight and its strongest free pruned weight, margin_g = min_kept s − max_pruned s (the same
// borderline idea as the unstructured order: pruned by descending, kept by ascending score).
// Groups with the smallest margin come first (ties: lower group index); random selection
// shuffles the groups. Groups are taken in that order while their free members fit in blockSize.
// A group is tabu when any of its free members is; the oldest tabu entries are released early
// when the groups outside the list cannot fill a block.
import type { Rng } from '../util/rng.js';
import type { NMPattern } from '../pruning/select-mask.js';
import type { QuboGroups } from '../plugin-api/solver.js';
import type { Block } from './block-selection.js';
import type { LayerState } from './layer-state.js';

export interface GroupBlock extends Block {
  /** Group (local index) and required pruned count of every block variable. */
  readonly groups: QuboGroups;
}

/** Flat kernel indices of group `gid` (= groupRow · units + o). */
export function groupMembers(gid: number, units: number, of: number): Int32Array {
  const o = gid % units;
  const row0 = Math.floor(gid / units) * of;
  const out = new Int32Array(of);
  for (let t = 0; t < of; t++) out[t] = (row0 + t) * units + o;
  return out;
}

interface Candidate {
  readonly gid: number;
  /** Free (non-frozen) members. */
  readonly free: number;
  readonly tabu: boolean;
  readonly margin: number;
}

function describeGroups(
  state: LayerState,
  scores: ArrayLike<number> | undefined,
  of: number,
): Candidate[] {
  const { units, fanIn } = state.info;
  const count = (fanIn / of) * units;
  const out: Candidate[] = [];
  for (let gid = 0; gid < count; gid++) {
    let pruned = 0;
    let kept = 0;
    let tabu = false;
    let maxPruned = -Infinity;
    let minKept = Infinity;
    for (const j of groupMembers(gid, units, of)) {
      if (state.frozen[j] === 1) continue;
      if (state.tabu.has(j)) tabu = true;
      const s = scores === undefined ? 0 : (scores[j] as number);
      if (state.pruned[j] === 1) {
        pruned++;
        if (s > maxPruned) maxPruned = s;
      } else {
        kept++;
        if (s < minKept) minKept = s;
      }
    }
    if (pruned === 0 || kept === 0) continue;
    const margin = minKept - maxPruned;
    out.push({ gid, free: pruned + kept, tabu, margin: Number.isNaN(margin) ? Infinity : margin });
  }
  return out;
}

function buildBlock(
  state: LayerState,
  chosen: readonly Candidate[],
  of: number,
  wholeLayer: boolean,
  evicted: number,
): GroupBlock {
  const units = state.info.units;
  const prunedIdx: number[] = [];
  const prunedGroup: number[] = [];
  const keptIdx: number[] = [];
  const keptGroup: number[] = [];
  const ones = new Int32Array(chosen.length);
  chosen.forEach((c, g) => {
    for (const j of groupMembers(c.gid, units, of)) {
      if (state.frozen[j] === 1) continue;
      if (state.pruned[j] === 1) {
        prunedIdx.push(j);
        prunedGroup.push(g);
        ones[g] = (ones[g] as number) + 1;
      } else {
        keptIdx.push(j);
        keptGroup.push(g);
      }
    }
  });
  return {
    indices: Int32Array.from([...prunedIdx, ...keptIdx]),
    k: prunedIdx.length,
    wholeLayer,
    evicted,
    groups: { group: Int32Array.from([...prunedGroup, ...keptGroup]), ones },
  };
}

/** Free members of non-tabu candidates. */
function availableSize(cands: readonly Candidate[]): number {
  let s = 0;
  for (const c of cands) if (!c.tabu) s += c.free;
  return s;
}

/**
 * The block of one N:M step: whole groups by ascending margin of `scores` (undefined: random
 * order with `rng`), their free members adding up to at most `blockSize`.
 */
export function selectGroupBlock(
  state: LayerState,
  scores: ArrayLike<number> | undefined,
  blockSize: number,
  pattern: NMPattern,
  rng: Rng,
): GroupBlock {
  const of = pattern.of;
  let cands = describeGroups(state, scores, of);
  let total = 0;
  for (const c of cands) total += c.free;
  if (total <= blockSize) return buildBlock(state, cands, of, true, 0);

  // Release the oldest tabu entries while the groups outside the list cannot fill a block.
  let evicted = 0;
  while (state.tabu.enabled && availableSize(cands) < blockSize && state.tabu.length > 0) {
    const deficit = blockSize - availableSize(cands);
    for (let t = 0; t < deficit && state.tabu.length > 0; t++) {
      state.tabu.evictOldest();
      evicted++;
    }
    cands = describeGroups(state, scores, of);
  }
  const open = cands.filter((c) => !c.tabu);
  let order: Candidate[];
  if (scores === undefined) {
    const perm = rng.permutation(open.length);
    order = Array.from(perm, (t) => open[t] as Candidate);
  } else {
    order = open.sort((a, b) => a.margin - b.margin || a.gid - b.gid);
  }
  const chosen: Candidate[] = [];
  let size = 0;
  for (const c of order) {
    if (size + c.free > blockSize) continue;
    chosen.push(c);
    size += c.free;
    if (size === blockSize) break;
  }
  // Keep the blocks' groups in index order (deterministic variable order for the solver).
  chosen.sort((a, b) => a.gid - b.gid);
  return buildBlock(state, chosen, of, false, evicted);
}
