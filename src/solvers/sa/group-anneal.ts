// One chain of the annealer under per-group cardinalities (iCBS N:M blocks, plugin-api/solver.ts
// QuboGroups): the same schedule, Metropolis rule, early stop and best-state tracking as
// annealChain (anneal.ts), but a proposal swaps variable i with a uniformly random variable of
// the opposite value IN ITS OWN GROUP, so every group keeps its number of ones and every state
// visited is feasible. The O(n) field update of an accepted swap is the same FieldKernel (the
// workers pass their WebAssembly SIMD kernel); the O(1) proposal logic is plain JavaScript.
import {
  chainEnergy,
  jsFieldKernel,
  localFields,
  type ChainOptions,
  type ChainResult,
  type FieldKernel,
  type SymmetricQubo,
} from './anneal.js';

const TWO_POW_32 = 4294967296;

/** xoshiro128** over a copy of `seedState` (the generator annealChain inlines). */
function xoshiro(seedState: Int32Array): () => number {
  let s0 = seedState[0] as number;
  let s1 = seedState[1] as number;
  let s2 = seedState[2] as number;
  let s3 = seedState[3] as number;
  return () => {
    let r = Math.imul(s1, 5);
    r = Math.imul((r << 7) | (r >>> 25), 9) >>> 0;
    const t = s1 << 9;
    s2 ^= s0;
    s3 ^= s1;
    s1 ^= s2;
    s0 ^= s3;
    s2 ^= t;
    s3 = (s3 << 11) | (s3 >>> 21);
    return r;
  };
}

/**
 * The variables ordered by group, each group's ones first: members[start[g] … start[g] + ones[g])
 * are the ones of group g, the rest of its range its zeros; pos[i] is i's place in members.
 */
interface GroupLists {
  readonly start: Int32Array;
  readonly ones: Int32Array;
  readonly members: Int32Array;
  readonly pos: Int32Array;
}

function groupLists(x: Uint8Array, groupOf: Int32Array): GroupLists {
  const n = x.length;
  let count = 0;
  for (let i = 0; i < n; i++) count = Math.max(count, (groupOf[i] as number) + 1);
  const start = new Int32Array(count + 1);
  const ones = new Int32Array(count);
  for (let i = 0; i < n; i++) {
    const g = groupOf[i] as number;
    start[g + 1] = (start[g + 1] as number) + 1;
    if (x[i] === 1) ones[g] = (ones[g] as number) + 1;
  }
  for (let g = 0; g < count; g++) start[g + 1] = (start[g + 1] as number) + (start[g] as number);
  const nextOne = Int32Array.from(start.subarray(0, count));
  const nextZero = Int32Array.from(start.subarray(0, count), (s, g) => s + (ones[g] as number));
  const members = new Int32Array(n);
  const pos = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    const g = groupOf[i] as number;
    const at = x[i] === 1 ? (nextOne[g] as number) : (nextZero[g] as number);
    if (x[i] === 1) nextOne[g] = at + 1;
    else nextZero[g] = at + 1;
    members[at] = i;
    pos[i] = at;
  }
  return { start, ones, members, pos };
}

/**
 * Prune `a` (a one) and keep `b` (a zero of the same group): x and the group lists stay in step
 * (a and b trade places in `members`, so every group's ones stay first).
 */
function swapInGroup(
  x: Uint8Array,
  members: Int32Array,
  pos: Int32Array,
  a: number,
  b: number,
): void {
  x[a] = 0;
  x[b] = 1;
  const pa = pos[a] as number;
  const pb = pos[b] as number;
  members[pa] = b;
  pos[b] = pa;
  members[pb] = a;
  pos[a] = pb;
}

/** Runs one grouped chain from `initial` (not modified); the result keeps every group's ones. */
export function annealGroupChain(
  p: SymmetricQubo,
  initial: Uint8Array,
  groupOf: Int32Array,
  opts: ChainOptions,
  kernel: FieldKernel = jsFieldKernel(p),
): ChainResult {
  const { n, S, diag } = p;
  const x = Uint8Array.from(initial);
  const best = Uint8Array.from(x);
  const f = localFields(p, x, kernel.f);
  const { start, ones, members, pos } = groupLists(x, groupOf);
  const next = xoshiro(opts.seedState);
  let energy = chainEnergy(f, diag, x, n);
  let bestEnergy = energy;
  let atBest = true;
  let proposals = 0;
  let accepted = 0;
  let temperatures = 0;
  for (let bi = 0; bi < opts.betas.length; bi++) {
    const beta = opts.betas[bi] as number;
    temperatures++;
    let changed = 0;
    for (let sw = 0; sw < opts.sweeps; sw++) {
      for (let i = 0; i < n; i++) {
        const g = groupOf[i] as number;
        const s = start[g] as number;
        const c = ones[g] as number;
        const partners = x[i] === 1 ? (start[g + 1] as number) - s - c : c;
        const r = next();
        proposals++;
        if (partners === 0) continue; // the group is all ones or all zeros: nothing to swap
        const pick = Math.floor((r / TWO_POW_32) * partners);
        const a = x[i] === 1 ? i : (members[s + pick] as number);
        const b = x[i] === 1 ? (members[s + c + pick] as number) : i;
        const dE =
          (diag[a] as number) +
          (diag[b] as number) +
          (f[b] as number) -
          (f[a] as number) -
          (S[a * n + b] as number);
        if (dE > 0) {
          const bdE = beta * dE;
          const u = next();
          if (bdE > 23 ? u !== 0 : u / TWO_POW_32 >= Math.exp(-bdE)) continue;
        }
        if (atBest && dE >= 0) {
          best.set(x);
          atBest = false;
        }
        accepted++;
        if (dE !== 0) changed++;
        energy += dE;
        if (energy < bestEnergy) {
          bestEnergy = energy;
          atBest = true;
        }
        swapInGroup(x, members, pos, a, b);
        kernel.update(a, b);
      }
    }
    if (changed === 0) break;
  }
  if (atBest) best.set(x);
  let descentSwaps = 0;
  if (opts.descent) {
    const d = groupSwapDescent(p, best, groupOf, kernel);
    descentSwaps = d.swaps;
    bestEnergy += d.deltaE;
  }
  return { x: best, trackedEnergy: bestEnergy, temperatures, proposals, accepted, descentSwaps };
}

/**
 * swapDescent (anneal.ts) with partners restricted to the same group: for each one a (index
 * order), the zero b of a's group whose swap lowers the energy most, made if it does; stop after
 * a pass without a swap. Modifies `x`.
 */
export function groupSwapDescent(
  p: SymmetricQubo,
  x: Uint8Array,
  groupOf: Int32Array,
  kernel: FieldKernel,
): { swaps: number; deltaE: number } {
  const { n, S, diag } = p;
  const f = localFields(p, x, kernel.f);
  const { start, ones, members, pos } = groupLists(x, groupOf);
  let swaps = 0;
  let deltaE = 0;
  for (let changed = true; changed;) {
    changed = false;
    for (let a = 0; a < n; a++) {
      if (x[a] !== 1) continue;
      const g = groupOf[a] as number;
      const z0 = (start[g] as number) + (ones[g] as number);
      const z1 = start[g + 1] as number;
      const row = a * n;
      const base = (diag[a] as number) - (f[a] as number);
      let bestDE = 0;
      let bestB = -1;
      for (let t = z0; t < z1; t++) {
        const b = members[t] as number;
        const dE = base + (diag[b] as number) + (f[b] as number) - (S[row + b] as number);
        if (dE < bestDE || (dE === bestDE && bestB >= 0 && b < bestB)) {
          bestDE = dE;
          bestB = b;
        }
      }
      if (bestB < 0) continue;
      const b = bestB;
      // As in swapDescent: only a decrease beyond the round-off of its terms counts.
      const scale =
        Math.abs(f[a] as number) +
        Math.abs(f[b] as number) +
        Math.abs(diag[a] as number) +
        Math.abs(diag[b] as number) +
        Math.abs(S[row + b] as number);
      if (bestDE > -1e-12 * (1 + scale)) continue;
      swapInGroup(x, members, pos, a, b);
      kernel.update(a, b);
      swaps++;
      deltaE += bestDE;
      changed = true;
    }
  }
  return { swaps, deltaE };
}
