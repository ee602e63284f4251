// Helpers every QUBO solver shares: checking a problem, its default starting state, and the
// float64 energy xᵀQx that every solver reports (recomputed from scratch, never accumulated).
import { ErrorCode, ScalpelError } from '../errors.js';
import type { CardinalityQubo, QuboGroups } from '../plugin-api/solver.js';

/** xᵀQx in float64 for a dense row-major n × n matrix (Q need not be symmetric). */
export function quboEnergy(Q: ArrayLike<number>, n: number, x: ArrayLike<number>): number {
  let e = 0;
  for (let i = 0; i < n; i++) {
    if (x[i] === 0) continue;
    const row = i * n;
    let s = 0;
    for (let j = 0; j < n; j++) if (x[j] !== 0) s += Q[row + j] as number;
    e += s;
  }
  return e;
}

/** Number of ones in a 0/1 vector. */
export function countOnes(x: ArrayLike<number>): number {
  let c = 0;
  for (let i = 0; i < x.length; i++) if (x[i] !== 0) c++;
  return c;
}

/** The state a solver starts from: `problem.initial` or the first k entries set to 1. */
export function initialState(problem: CardinalityQubo): Uint8Array {
  const x = new Uint8Array(problem.n);
  if (problem.initial !== undefined) x.set(problem.initial);
  else x.fill(1, 0, problem.k);
  return x;
}

/** Throws E_INTERNAL when a problem is malformed (sizes, k, initial state): callers build these. */
export function checkProblem(problem: CardinalityQubo, solver: string): void {
  const { n, k, Q, initial } = problem;
  const fail = (what: string): never => {
    throw new ScalpelError(
      ErrorCode.Internal,
      `solver '${solver}': invalid QUBO problem: ${what}`,
      {
        hint: 'the caller built an inconsistent problem; this is a bug in the stage calling the solver',
      },
    );
  };
  if (!Number.isInteger(n) || n < 1) fail(`n must be a positive integer, got ${n}`);
  if (!Number.isInteger(k) || k < 0 || k > n) fail(`k must be an integer in [0, n=${n}], got ${k}`);
  if (Q.length !== n * n) fail(`Q has ${Q.length} entries, expected n*n = ${n * n}`);
  if (initial !== undefined) {
    if (initial.length !== n) fail(`initial state has length ${initial.length}, expected ${n}`);
    for (let i = 0; i < n; i++) {
      const v = initial[i];
      if (v !== 0 && v !== 1) fail(`initial state entry ${i} is ${v}, expected 0 or 1`);
    }
    const ones = countOnes(initial);
    if (ones !== k) fail(`initial state has ${ones} ones, expected k = ${k}`);
  }
  if (problem.groups !== undefined) {
    const why = groupsProblem(problem.groups, n, k);
    if (why !== undefined) fail(why);
    if (initial !== undefined) {
      const bad = groupViolation(initial, problem.groups);
      if (bad !== undefined) fail(`initial state: ${bad}`);
    }
  }
}

/** Why a group constraint is malformed for n variables and k ones, or undefined. */
function groupsProblem(groups: QuboGroups, n: number, k: number): string | undefined {
  const { group, ones } = groups;
  if (group.length !== n) return `groups.group has length ${group.length}, expected ${n}`;
  const size = new Int32Array(ones.length);
  for (let i = 0; i < n; i++) {
    const g = group[i] as number;
    if (!(g >= 0 && g < ones.length)) return `variable ${i} is in group ${g} of ${ones.length}`;
    size[g] = (size[g] as number) + 1;
  }
  let total = 0;
  for (let g = 0; g < ones.length; g++) {
    const c = ones[g] as number;
    if (c < 0 || c > (size[g] as number))
      return `group ${g} of ${size[g]} variables cannot hold ${c} ones`;
    total += c;
  }
  return total === k ? undefined : `the groups' ones add up to ${total}, expected k = ${k}`;
}

/** The first group whose number of ones in x differs from its requirement, as text, or undefined. */
export function groupViolation(x: ArrayLike<number>, groups: QuboGroups): string | undefined {
  const count = new Int32Array(groups.ones.length);
  for (let i = 0; i < groups.group.length; i++) {
    if (x[i] !== 0) {
      const g = groups.group[i] as number;
      count[g] = (count[g] as number) + 1;
    }
  }
  for (let g = 0; g < count.length; g++) {
    if (count[g] !== groups.ones[g])
      return `group ${g} has ${count[g]} ones, expected ${groups.ones[g]}`;
  }
  return undefined;
}

/**
 * Verifies a solver's answer: length n, binary, exactly k ones, and every group's ones when
 * `groups` is given (E_INTERNAL otherwise: a bug).
 */
export function checkSolution(
  x: Uint8Array,
  n: number,
  k: number,
  solver: string,
  groups?: QuboGroups,
): void {
  let ones = 0;
  let binary = x.length === n;
  for (let i = 0; i < x.length && binary; i++) {
    const v = x[i];
    if (v === 1) ones++;
    else if (v !== 0) binary = false;
  }
  if (!binary || ones !== k) {
    throw new ScalpelError(
      ErrorCode.Internal,
      `solver '${solver}' returned an invalid state (length ${x.length}, ${ones} ones; expected length ${n} with exactly ${k} ones)`,
    );
  }
  const bad = groups !== undefined ? groupViolation(x, groups) : undefined;
  if (bad !== undefined) {
    throw new ScalpelError(
      ErrorCode.Internal,
      `solver '${solver}' returned a state that breaks a group constraint: ${bad}`,
    );
  }
}

/** xᵀQx in float64 summing only over the ones (O(k²)); same value as quboEnergy. */
export function quboEnergyOfOnes(Q: ArrayLike<number>, n: number, x: ArrayLike<number>): number {
  const ones: number[] = [];
  for (let i = 0; i < n; i++) if (x[i] !== 0) ones.push(i);
  let e = 0;
  for (const i of ones) {
    const row = i * n;
    let s = 0;
    for (const j of ones) s += Q[row + j] as number;
    e += s;
  }
  return e;
}
