// A ViT/DeiT checkpoint directory (config.json + model.safetensors, or shards with an index, as
// save_pretrained writes them) checked, loaded and saved: the config and the safetensors headers
// are checked against each other before any tensor data is read; each tensor is read once, as its
// variable is made; a save writes the tensors in HF shapes with the stored config.json (or the
// one a recipe's config implies), in the dtypes they were loaded with.
import { join } from 'node:path';
import { configFile, openCheckpoint, type HfCheckpoint } from './checkpoint-dir.js';
import { checkStoredTensors } from './checkpoint-check.js';
import { CheckpointWeights } from './checkpoint-weights.js';
import { HfImageClassifierModel, type HfImageClassifierOptions } from './image-classifier-model.js';
import { saveCheckpoint, type SaveHfOptions } from './save-checkpoint.js';
import { VitArchitecture } from './vit.js';
import { parseVitConfig, vitConfigJson, type VitConfig } from './vit-config.js';

export type VitLoadOptions = Pick<
  HfImageClassifierOptions,
  'includePatchEmbedding' | 'includeClassifier'
>;

/** The config of an open checkpoint, checked against its tensors' headers. */
function checkedConfig(ck: HfCheckpoint, shownAs: string): VitConfig {
  const names = new Set(ck.tensorNames());
  const config = parseVitConfig(ck.config, join(shownAs, configFile), names);
  checkStoredTensors(new VitArchitecture(config).layout, ck, shownAs);
  return config;
}

/** Check the checkpoint in `path` from its headers alone; returns the files that define it. */
export async function inspectVitCheckpoint(path: string, shownAs = path): Promise<string[]> {
  const ck = await openCheckpoint(path);
  try {
    checkedConfig(ck, shownAs);
    return [...ck.files];
  } finally {
    await ck.close();
  }
}

export async function loadVitCheckpoint(
  dir: string,
  options: VitLoadOptions = {},
): Promise<HfImageClassifierModel> {
  const ck = await openCheckpoint(dir);
  try {
    const config = checkedConfig(ck, ck.dir);
    const names = ck.tensorNames();
    const shapes = new Map(names.map((name) => [name, ck.shapeOf(name)]));
    const dtypes = new Map(names.map((name) => [name, ck.dtypeOf(name)]));
    return new HfImageClassifierModel(config, new CheckpointWeights(ck, names), {
      ...options,
      shapes,
      source: { dir: ck.dir, configJson: ck.config, dtypes },
      configFile: join(ck.dir, configFile),
    });
  } finally {
    await ck.close();
  }
}

/** Write `model` into `dir` as a checkpoint transformers loads; returns the files written. */
export async function saveVitCheckpoint(
  model: HfImageClassifierModel,
  dir: string,
  options: SaveHfOptions = {},
): Promise<string[]> {
  const shapes = new Map(model.arch.layout.tensors.map((t) => [t.name, t.shape]));
  const source = model.source;
  return saveCheckpoint(
    {
      readers: model.tensorReaders(),
      shapes,
      configJson: source?.configJson ?? model.configJson ?? vitConfigJson(model.config),
      ...(source !== undefined ? { storedDtypes: source.dtypes } : {}),
    },
    dir,
    options,
  );
}
