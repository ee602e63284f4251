// The model families scalpel ships (registered in engine/builtins.ts; plugins add more).
import type { ModelFamily } from '../plugin-api/model.js';
import { tfjsLayersFamily } from './tfjs-layers/family.js';

export const builtinFamilies: readonly ModelFamily[] = [tfjsLayersFamily];
