// Library entry point: `import { loadRecipe, planRecipe, runRecipe } from 'scalpel'`.
export * from './plugin-api/index.js';
export { ScalpelError, ErrorCode, ExitCode, isScalpelError } from './errors.js';
export { Rng } from './util/rng.js';
