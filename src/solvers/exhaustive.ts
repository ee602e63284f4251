// The `exhaustive` solver: tries all C(n, k) states (for tests and tiny blocks). States are
// visited in increasing order of their bit pattern (Gosper's hack: bit i = x_i), and a state
// replaces the best only when strictly lower, so ties go to the first in that order. With
// `problem.groups` it tries the product of the groups' choices instead (exhaustive-groups.ts).
import { ErrorCode, ScalpelError } from '../errors.js';
import type { CardinalityQubo, QuboSolver, SolveResult } from '../plugin-api/solver.js';
import { readSchema } from '../util/schemas.js';
import { solveGroupsExhaustively } from './exhaustive-groups.js';
import { checkProblem, quboEnergy } from './problem.js';

/** Largest n accepted (C(24, 12) ≈ 2.7 million states). */
export const exhaustiveMaxN = 24;

export const exhaustive: QuboSolver = {
  name: 'exhaustive',
  version: '1',
  description: `Tries every state with exactly k ones (n ≤ ${exhaustiveMaxN}); exact, for tests and tiny blocks`,
  get schema() {
    return readSchema('solvers/exhaustive.schema.json');
  },
  groupConstraints: true,
  maxVariables: exhaustiveMaxN,
  solve(problem: CardinalityQubo): Promise<SolveResult> {
    // Synchronous work, but a bad problem still comes back as a rejection, as from an async solver.
    return new Promise((resolve) => resolve(solveExhaustively(problem)));
  },
};

function solveExhaustively(problem: CardinalityQubo): SolveResult {
  checkProblem(problem, 'exhaustive');
  const { n, k, Q } = problem;
  if (problem.groups !== undefined) return solveGroupsExhaustively(Q, n, problem.groups);
  if (n > exhaustiveMaxN) {
    throw new ScalpelError(
      ErrorCode.Stage,
      `solver 'exhaustive' handles blocks of at most ${exhaustiveMaxN} variables, got n = ${n}`,
      { hint: "use solver 'sa' (or make the block smaller) for larger blocks" },
    );
  }
  // Incremental energy per state would save a factor n, but n ≤ 24 keeps this simple and exact.
  const x = new Uint8Array(n);
  const bestX = new Uint8Array(n);
  let best = Infinity;
  let states = 0;
  const limit = 2 ** n;
  let v = k === 0 ? 0 : 2 ** k - 1;
  for (;;) {
    for (let i = 0; i < n; i++) x[i] = Math.floor(v / 2 ** i) % 2;
    const e = quboEnergy(Q, n, x);
    states++;
    if (e < best) {
      best = e;
      bestX.set(x);
    }
    if (k === 0 || k === n) break;
    // Gosper's hack: the next larger integer with the same number of set bits (n ≤ 24: exact
    // in 32-bit integer arithmetic).
    const c = v & -v;
    const r = v + c;
    v = (((r ^ v) >>> 2) / c) | r;
    if (v >= limit) break;
  }
  return { x: bestX, energy: best, stats: { states } };
}
