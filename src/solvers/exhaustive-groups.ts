// The `exhaustive` solver's grouped mode (iCBS N:M blocks): every state in which each group holds
// exactly its number of ones, i.e. the product over the groups of their C(size_g, ones_g)
// choices, visited like an odometer (group 0 fastest). A state replaces the best only when
// strictly lower, so ties go to the first in that order.
import { ErrorCode, ScalpelError } from '../errors.js';
import type { QuboGroups, SolveResult } from '../plugin-api/solver.js';
import { quboEnergy } from './problem.js';

/** Largest number of states tried (C(24, 12), as for the ungrouped mode). */
export const exhaustiveMaxStates = 2704156;

function binomial(n: number, k: number): number {
  let c = 1;
  for (let t = 1; t <= k; t++) c = (c * (n - k + t)) / t;
  return Math.round(c);
}

/** All ways to pick `ones` of `members`, each as the list of chosen variables. */
function choices(members: readonly number[], ones: number): number[][] {
  const out: number[][] = [];
  const pick: number[] = [];
  const rec = (from: number): void => {
    if (pick.length === ones) {
      out.push([...pick]);
      return;
    }
    for (let t = from; t <= members.length - (ones - pick.length); t++) {
      pick.push(members[t] as number);
      rec(t + 1);
      pick.pop();
    }
  };
  rec(0);
  return out;
}

export function solveGroupsExhaustively(
  Q: Float32Array,
  n: number,
  groups: QuboGroups,
): SolveResult {
  const members: number[][] = Array.from(groups.ones, () => []);
  for (let i = 0; i < n; i++) (members[groups.group[i] as number] as number[]).push(i);
  let total = 1;
  members.forEach((m, g) => (total *= binomial(m.length, groups.ones[g] as number)));
  if (total > exhaustiveMaxStates) {
    throw new ScalpelError(
      ErrorCode.Stage,
      `solver 'exhaustive' would try ${total} states for a block of ${members.length} groups (at most ${exhaustiveMaxStates})`,
      { hint: "use solver 'sa' (or a smaller blockSize) for larger N:M blocks" },
    );
  }
  const options = members.map((m, g) => choices(m, groups.ones[g] as number));
  const digit = new Int32Array(options.length);
  const x = new Uint8Array(n);
  const bestX = new Uint8Array(n);
  let best = Infinity;
  let states = 0;
  for (;;) {
    x.fill(0);
    options.forEach((o, g) => {
      for (const i of o[digit[g] as number] as number[]) x[i] = 1;
    });
    const e = quboEnergy(Q, n, x);
    states++;
    if (e < best) {
      best = e;
      bestX.set(x);
    }
    let g = 0;
    while (g < options.length) {
      digit[g] = (digit[g] as number) + 1;
      if ((digit[g] as number) < (options[g] as number[][]).length) break;
      digit[g] = 0;
      g++;
    }
    if (g === options.length) break;
  }
  return { x: bestX, energy: best, stats: { states } };
}
