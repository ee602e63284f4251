// The built-in model family `hf-image-classifier`: Hugging Face vision transformer classifiers
// (ViTForImageClassification, DeiTForImageClassification[WithTeacher]) as `save_pretrained` writes
// them, config.json + safetensors weights, run by scalpel's own tfjs forward
// (HfImageClassifierModel). It recognizes a checkpoint directory whose config.json says ViT or
// DeiT; hf-causal-lm recognizes every other one.
import { promises as fs } from 'node:fs';
import { join } from 'node:path';
import { ErrorCode, ScalpelError } from '../../errors.js';
import type { ModelFamily, ModelSourceInfo, PrunableModel } from '../../plugin-api/model.js';
import { writeJsonAtomic } from '../../util/atomic-file.js';
import { isObject } from '../../util/is-object.js';
import { ownModel } from '../family-model.js';
import { configFile, isHfCheckpointDir } from './checkpoint-dir.js';
import { HfImageClassifierModel, hfImageClassifierFamilyName } from './image-classifier-model.js';
import { resolveSavedOptions } from './saved-options.js';
import {
  inspectVitCheckpoint,
  loadVitCheckpoint,
  saveVitCheckpoint,
  type VitLoadOptions,
} from './vit-checkpoint.js';
import { isVitConfigJson } from './vit-config.js';

/** Written beside a saved checkpoint loaded with non-default options; load takes them back. */
export const imageLoadOptionsFile = 'hf-image-classifier.options.json';

const optionKeys = ['includePatchEmbedding', 'includeClassifier'] as const;

function optionsOf(raw: unknown, where: string): VitLoadOptions {
  if (raw === undefined) return {};
  const bad =
    !isObject(raw) ||
    Object.entries(raw).some(
      ([k, v]) => !(optionKeys as readonly string[]).includes(k) || typeof v !== 'boolean',
    );
  if (bad) {
    throw new ScalpelError(
      ErrorCode.RecipeSchema,
      `${where}: options of family '${hfImageClassifierFamilyName}' must be { includePatchEmbedding?: boolean, includeClassifier?: boolean }, got ${JSON.stringify(raw)}`,
      {
        hint: 'includePatchEmbedding / includeClassifier make the patch embedding / head prunable too',
      },
    );
  }
  const o = raw as Record<string, boolean>;
  return Object.fromEntries(optionKeys.filter((k) => o[k] !== undefined).map((k) => [k, o[k]]));
}

/** A checkpoint directory whose config.json says ViT/DeiT (hf-causal-lm leaves these to us). */
export async function isVitCheckpointDir(path: string): Promise<boolean> {
  if (!(await isHfCheckpointDir(path))) return false;
  try {
    const json: unknown = JSON.parse(await fs.readFile(join(path, configFile), 'utf8'));
    return isObject(json) && isVitConfigJson(json);
  } catch {
    return false; // not ours to explain: hf-causal-lm (or load) reports the broken config
  }
}

const asVit = (model: PrunableModel): HfImageClassifierModel =>
  ownModel(model, HfImageClassifierModel, hfImageClassifierFamilyName);

export const hfImageClassifierFamily: ModelFamily = {
  name: hfImageClassifierFamilyName,
  version: '1',
  description:
    'Hugging Face vision transformers (ViTForImageClassification, DeiTForImageClassification[WithTeacher]): config.json and *.safetensors',
  schema: {
    type: 'object',
    properties: {
      includePatchEmbedding: {
        description:
          'Make the patch embedding (Conv2d, seen as [C·P·P, hidden]) a prunable operator too',
        type: 'boolean',
      },
      includeClassifier: {
        description: 'Make the classification head(s) prunable operators too',
        type: 'boolean',
      },
    },
    additionalProperties: false,
  },

  recognizes: isVitCheckpointDir,

  async inspect(path, shownAs = path): Promise<ModelSourceInfo> {
    return { files: await inspectVitCheckpoint(path, shownAs) };
  },

  async load(path, options) {
    const { dir, saved } = await resolveSavedOptions(path, imageLoadOptionsFile, optionsOf);
    return loadVitCheckpoint(dir, { ...saved, ...optionsOf(options, path) });
  },

  async save(model, dir) {
    const vit = asVit(model);
    await saveVitCheckpoint(vit, dir);
    const names = new Set(vit.operators.map((o) => o.name));
    const optional = vit.optionalOperators;
    const saved: VitLoadOptions = {
      ...(names.has(optional.patchEmbedding) ? { includePatchEmbedding: true } : {}),
      ...(optional.heads.some((h) => names.has(h)) ? { includeClassifier: true } : {}),
    };
    if (Object.keys(saved).length === 0) return '.';
    await writeJsonAtomic(join(dir, imageLoadOptionsFile), saved);
    return imageLoadOptionsFile;
  },
};
