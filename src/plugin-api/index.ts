// The public plugin API (re-exported from the package entry point).
export type * from './stage.js';
export type * from './schema.js';
export type * from './rng.js';
export type * from './registry-view.js';
export type * from './layers.js';
export type * from './calibration.js';
export type * from './pruner.js';
export type * from './solver.js';
export type * from './dataset.js';
export type * from './model.js';
export type * from './task.js';
export type { ScalpelPlugin } from './plugin.js';
export { blockOf } from './layers.js';
export {
  definePlugin,
  defineStage,
  definePruner,
  defineSolver,
  defineModelFamily,
} from './plugin.js';
