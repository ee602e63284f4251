// The built-in QUBO solvers (the registry adds plugins' solvers to these). Each minimises xᵀQx
// over binary x with exactly k ones (src/plugin-api/solver.ts):
//   sa          cardinality-constrained simulated annealing (sa/), restarts on worker threads
//   exhaustive  all C(n, k) states, n ≤ 24 (tests, tiny blocks)
//   external    a user command on a UBQP file (external/)
import type { QuboSolver } from '../plugin-api/solver.js';
import { exhaustive } from './exhaustive.js';
import { external } from './external/index.js';
import { sa } from './sa/index.js';

export const builtinSolvers: QuboSolver[] = [sa, exhaustive, external];

export { sa, SaSolver } from './sa/index.js';
export { exhaustive } from './exhaustive.js';
export { external } from './external/index.js';
export { quboEnergy, quboEnergyOfOnes } from './problem.js';
