// A small ResNet for the pruner conformance suite and the ResNet stage tests: a strided stem conv,
// an identity basic block, a downsampling basic block with a projection shortcut (1×1 conv stride
// 2 + batch norm), global average pooling and a dense head — built from a recipe-style ModelSpec,
// trained briefly by the scalpel training loop on real Fashion-MNIST images (28×28×1), calibrated
// by the calibrate stage. Built once per process (a few seconds).
import { builtinFamilyLookup } from '../../src/models/families.js';
import { initBackend } from '../../src/models/backend.js';
import { buildModel, type ModelSpec } from '../../src/models/model-spec.js';
import { writeModelArtifact } from '../../src/models/model-artifact.js';
import { TfjsLayersModel } from '../../src/models/tfjs-layers/layers-model.js';
import { createOptimizer, trainLoop } from '../../src/models/training-loop.js';
import { readDatasetArtifact, requireSplit } from '../../src/data/dataset-artifact.js';
import { loadDatasetStage } from '../../src/stages/load-dataset.js';
import { Rng } from '../../src/util/rng.js';
import { artifactFrom, runStage } from '../helpers/stage-context.js';
import { tempDir } from '../helpers/paths.js';
import { calibratedFixture, type PruneFixture } from './fixture.js';

const conv = (name: string, filters: number, strides = 1) =>
  ({
    type: 'conv2d',
    filters,
    kernelSize: 3,
    strides,
    padding: 'same',
    useBias: false,
    name,
  }) as const;

export const smallResnet: ModelSpec = {
  input: [28, 28, 1],
  layers: [
    {
      type: 'conv2d',
      filters: 8,
      kernelSize: 3,
      strides: 2,
      padding: 'same',
      activation: 'relu',
      name: 'stem',
    },
    {
      type: 'residual',
      name: 'block1.add',
      layers: [
        conv('block1.conv1', 8),
        { type: 'batchNorm', name: 'block1.bn1' },
        { type: 'activation', activation: 'relu' },
        conv('block1.conv2', 8),
        { type: 'batchNorm', name: 'block1.bn2' },
      ],
    },
    {
      type: 'residual',
      name: 'block2.add',
      shortcut: { name: 'block2.shortcut' },
      layers: [
        conv('block2.conv1', 16, 2),
        { type: 'batchNorm', name: 'block2.bn1' },
        { type: 'activation', activation: 'relu' },
        conv('block2.conv2', 16),
        { type: 'batchNorm', name: 'block2.bn2' },
      ],
    },
    { type: 'globalAvgPool' },
    { type: 'dense', units: 10, name: 'output' },
  ],
};

/** The prunable layers of smallResnet and their kernel rows (kh·kw·cin, or inputs). */
export const resnetFanIns: Readonly<Record<string, number>> = {
  stem: 9,
  'block1.conv1': 72,
  'block1.conv2': 72,
  'block2.conv1': 72,
  'block2.conv2': 144,
  'block2.shortcut': 8,
  output: 16,
};

async function build(): Promise<PruneFixture> {
  await initBackend('wasm');
  const data = await runStage(
    loadDatasetStage,
    {
      source: 'fashion-mnist',
      train: 600,
      test: 200,
      flatten: false,
      normalize: { mean: 0.29, std: 0.35 },
    },
    { seed: 2 },
  );
  const dataset = await readDatasetArtifact(data.artifact);
  const train = requireSplit(dataset, 'train');
  const test = requireSplit(dataset, 'test');
  const image = dataset.image;
  if (image === undefined) throw new Error('the fixture dataset records no image layout');
  const model = new TfjsLayersModel(buildModel(smallResnet, new Rng(4), 'resnet fixture'));
  const optimizer = createOptimizer({ name: 'adam', learningRate: 0.01 });
  await trainLoop({
    model,
    train,
    optimizer,
    epochs: 1,
    batchSize: 32,
    rng: new Rng(4).fork('train-loop'),
    augment: { options: { horizontalFlip: true }, image },
    where: 'resnet fixture',
  });
  optimizer.dispose();
  const dir = tempDir('scalpel-resnet-model-');
  const manifest = await writeModelArtifact(dir, model, builtinFamilyLookup);
  model.dispose();
  const modelArtifact = artifactFrom('model', dir, {
    stageId: 'model',
    stageType: 'train',
    manifest,
  });
  return calibratedFixture(modelArtifact, data.artifact, train, test);
}

let shared: Promise<PruneFixture> | undefined;

/** The shared ResNet fixture (built on first use). */
export function resnetFixture(): Promise<PruneFixture> {
  shared ??= build();
  return shared;
}
