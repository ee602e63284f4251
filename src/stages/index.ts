// The built-in stage types. Each lives in its own file; add it here.
import type { StageType } from '../plugin-api/stage.js';
import { trainStage } from './train.js';
import { evaluateStage } from './evaluate.js';
import { finetuneStage } from './finetune.js';
import { exportStage } from './export.js';
import { calibrateStage } from './calibrate.js';
import { pruneStage } from './prune.js';
import { compareTableStage } from './compare-table.js';
import { loadModelStage } from './load-model.js';
import { loadDatasetStage } from './load-dataset.js';
import { icbsStage } from './icbs.js';
import { trainTokenizerStage } from './train-tokenizer.js';
import { buildLmTasksStage } from './build-lm-tasks.js';

export const builtinStages: StageType[] = [
  trainStage,
  evaluateStage,
  finetuneStage,
  exportStage,
  calibrateStage,
  pruneStage,
  compareTableStage,
  loadModelStage,
  loadDatasetStage,
  trainTokenizerStage,
  buildLmTasksStage,
  icbsStage,
];
