// A small real setting for pruner tests on a vision transformer: the Fashion-MNIST samples of the
// shared pruner fixture (flat [784], which the ViT takes as 28×28×1 images), a ViT (patch 7, two
// blocks) trained briefly on them by the train stage, loaded with its classifier head as an
// operator too (the conformance suite excludes it and checks it untouched), and calibration
// statistics from the calibrate stage — dense, or `sequential` (block by block at prune time).
import { builtinFamilyLookup } from '../../../src/models/families.js';
import { hfImageClassifierFamily } from '../../../src/models/hf/image-family.js';
import { writeModelArtifact } from '../../../src/models/model-artifact.js';
import type { Artifact } from '../../../src/plugin-api/stage.js';
import { readCalibrationArtifact } from '../../../src/pruning/calibration-artifact.js';
import { calibrateStage } from '../../../src/stages/calibrate.js';
import { trainStage } from '../../../src/stages/train.js';
import { pruneFixture, type PruneFixture } from '../../conformance/fixture.js';
import { tempDir } from '../../helpers/paths.js';
import { artifactFrom, runStage } from '../../helpers/stage-context.js';

export const vitPruneConfig = {
  model_type: 'vit',
  image_size: 28,
  patch_size: 7,
  num_channels: 1,
  hidden_size: 16,
  num_hidden_layers: 2,
  num_attention_heads: 2,
  intermediate_size: 32,
  num_labels: 10,
};

async function trainedVit(dataset: Artifact): Promise<Artifact> {
  const trained = await runStage(
    trainStage,
    {
      model: { family: 'hf-image-classifier', config: vitPruneConfig },
      epochs: 1,
      batchSize: 25,
      samples: 500,
      learningRate: 0.003,
    },
    { inputs: [dataset], seed: 3 },
  );
  const model = await hfImageClassifierFamily.load(trained.ctx.outDir, { includeClassifier: true });
  const dir = tempDir('scalpel-vit-fixture-');
  try {
    const manifest = await writeModelArtifact(dir, model, builtinFamilyLookup);
    return artifactFrom('model', dir, { stageId: 'model', stageType: 'train', manifest });
  } finally {
    model.dispose();
  }
}

async function build(sequential: boolean): Promise<PruneFixture> {
  const mlp = await pruneFixture();
  const model = await (sharedModel ??= trainedVit(mlp.dataset));
  const cal = await runStage(
    calibrateStage,
    { samples: 64, gram: true, sequential },
    { inputs: [model, mlp.dataset], stageId: 'calib', seed: 5 },
  );
  return {
    ...mlp,
    model,
    calibration: cal.artifact,
    calibrationData: await readCalibrationArtifact(cal.artifact),
  };
}

let sharedModel: Promise<Artifact> | undefined;
const shared = new Map<boolean, Promise<PruneFixture>>();

/** The ViT fixture, dense or sequential calibration (built on first use). */
export function vitPruneFixture(sequential = false): () => Promise<PruneFixture> {
  return () => {
    let f = shared.get(sequential);
    if (f === undefined) shared.set(sequential, (f = build(sequential)));
    return f;
  };
}
