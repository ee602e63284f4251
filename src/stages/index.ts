// The built-in stage types. Each lives in its own file; add it here.
import type { StageType } from '../plugin-api/stage.js';

export const builtinStages: StageType[] = [];
