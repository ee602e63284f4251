// Library entry point: `import { loadRecipe, planRecipe, runRecipe } from 'scalpel'`.
export * from './plugin-api/index.js';
export { ScalpelError, ErrorCode, ExitCode, isScalpelError } from './errors.js';
export { Rng } from './util/rng.js';
export { loadRecipe, validateRecipe } from './recipe/load-recipe.js';
export type {
  ResolvedRecipe,
  ResolvedStage,
  LoadRecipeOptions,
  BackendChoice,
} from './recipe/types.js';
export { buildDag } from './recipe/dag.js';
export type { Dag, DagNode } from './recipe/dag.js';
export { Registry } from './registry/registry.js';
export { createBuiltinRegistry } from './registry/builtins.js';
export { loadSparseModel, writeSparseModel } from './models/tfjs-layers/sparse-format.js';
export {
  initBackend,
  ensureBackend,
  type BackendInfo,
  type BackendName,
} from './models/backend.js';
export { perSampleLoss, meanLoss, type OutputKind } from './models/loss.js';
// Model families: the built-in tfjs-layers family, its model class and the classification task.
export { tfjsLayersFamily } from './models/tfjs-layers/family.js';
export { builtinFamilies, builtinFamilyLookup } from './models/families.js';
export { TfjsLayersModel } from './models/tfjs-layers/layers-model.js';
export { ClassificationTask } from './models/tasks/classification.js';
// The hf-causal-lm family: Hugging Face GPT-2 / Llama / Mistral checkpoints and their files.
export { hfCausalLmFamily } from './models/hf/family.js';
export { HfCausalLmModel, type HfCausalLmOptions } from './models/hf/causal-lm-model.js';
export { HfCheckpointModel, type HfCheckpointSource } from './models/hf/load-checkpoint.js';
export { saveHfCheckpoint, type SaveHfOptions } from './models/hf/save-checkpoint.js';
export { CausalLmTask, type CausalLmShape } from './models/tasks/causal-lm.js';
export { parseHfConfig, type HfCausalLmConfig } from './models/hf/hf-config.js';
export {
  openCheckpoint,
  writeCheckpoint,
  type HfCheckpoint,
  type WriteCheckpointOptions,
} from './models/hf/checkpoint-dir.js';
export {
  openSafetensors,
  writeSafetensors,
  type SafetensorsFile,
  type TensorToWrite,
  type FloatDtype,
} from './models/hf/safetensors.js';
export {
  readModelArtifact,
  writeModelArtifact,
  type ModelManifest,
  type FamilyLookup,
} from './models/model-artifact.js';
// Building blocks for pruner plugins (the bundled baselines in plugins/ use exactly these).
export {
  keepCount,
  globalKeepCount,
  selectMask,
  selectPatternMask,
  selectGlobalMasks,
  selectTopK,
  checkPatternFits,
  countKept,
  type Scores,
  type Granularity,
  type NMPattern,
  type KernelShape,
  type MaskSpec,
  type GlobalEntry,
} from './pruning/select-mask.js';
export { magnitudeScores, wandaScores, gradientScores, randomScores } from './pruning/scores.js';
export { masksFromScores, type ScoreSelection } from './pruning/masks-from-scores.js';
export { readSchema } from './util/schemas.js';
// The engine: plan and run recipes without the CLI (what `scalpel plan` / `scalpel run` call).
export { planRecipe, type Plan, type PlanNode, type PlanOptions } from './engine/plan.js';
export {
  runRecipe,
  type RunOptions,
  type RunSummary,
  type RunNodeSummary,
  type RunStatus,
} from './engine/run.js';
export type { NodeStatus } from './engine/scheduler.js';
// Datasets: the artifact load-dataset writes, and batches of it as tensors (for plugin stages).
export {
  readDatasetArtifact,
  readDatasetManifest,
  writeDatasetArtifact,
  requireSplit,
  isPixelSplit,
  type DatasetManifest,
  type PixelSplit,
} from './data/dataset-artifact.js';
export {
  BatchCursor,
  batchRanges,
  disposeBatch,
  gatherSamples,
  gatherToTensors,
  sliceSamples,
  sliceToTensors,
  type SampleBlock,
} from './data/batches.js';
export type { Dataset, DatasetSplit } from './data/types.js';
// Data parallelism over worker threads (docs/performance.md): the process's setting and the passes.
export {
  configureDataParallel,
  dataParallelThreads,
  closeDataParallel,
} from './parallel/context.js';
export { evaluateModel } from './parallel/evaluation.js';
export { calibrationStatistics } from './parallel/calibration.js';
export { ParallelGradients, type ShardedLayerGradients } from './parallel/gradients.js';
// iCBS: the built-in pruner, and the per-sample gradient / block curvature machinery it uses.
export { icbsPruner } from './icbs/pruner.js';
export { icbsDefaults, type IcbsParams } from './icbs/params.js';
export {
  GradientEngine,
  type LayerBatchGradients,
  type BlockGradients,
} from './models/per-sample-gradients.js';
export {
  fisherCurvature,
  gradientMeanCurvature,
  exactCurvature,
  type BlockCurvature,
  type HessianKind,
} from './models/block-hessian.js';
// Sweeps, comparisons and reports (what `scalpel sweep / compare / report` call).
export { loadSweep } from './sweep/sweep-load.js';
export { runSweep } from './sweep/sweep-run.js';
export { collectReportData } from './report/collect.js';
export { compareTable } from './report/compare.js';
export { formatCompare } from './report/format-compare.js';
export { writeReport } from './report/build-report.js';
