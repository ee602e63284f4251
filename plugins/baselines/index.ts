// The one-shot baseline pruners, shipped as a plugin that uses only scalpel's public API — the
// same path a third-party plugin takes (loaded by src/registry/builtins.ts).
import { definePlugin } from '../../src/index.js';
import { magnitudePruner } from './magnitude.js';
import { randomPruner } from './random.js';
import { gradientPruner } from './gradient.js';
import { wandaPruner } from './wanda.js';
import { sparsegptPruner } from './sparsegpt.js';

export { magnitudePruner, randomPruner, gradientPruner, wandaPruner, sparsegptPruner };

export default definePlugin({
  name: 'scalpel-baselines',
  pruners: [magnitudePruner, randomPruner, gradientPruner, wandaPruner, sparsegptPruner],
});
