// Defaults of the step-mode (`steps:`) training parameters of train and finetune. They are not
// JSON-schema `default`s because ajv would fill them into epoch-mode stages too (and change
// every train node's hash); the schemas state them in each description ("Default 0.999."), and
// test/stages/step-training-defaults.test.ts fails when a description and this table disagree.
export const stepTrainingDefaults = {
  warmupSteps: 0,
  minLearningRate: 0,
  weightDecay: 0,
  beta2: 0.999,
  curveEvery: 10,
  evaluateSplit: 'validation',
} as const;
