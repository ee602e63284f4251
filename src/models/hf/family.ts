// The built-in model family `hf-causal-lm`: Hugging Face causal LMs (GPT-2, Llama, Mistral) as
// `save_pretrained` writes them, a directory of config.json + safetensors weights (one file or
// shards with an index) + tokenizer files, run by scalpel's own tfjs forward (HfCausalLmModel).
import { ownModel } from '../family-model.js';
import { join } from 'node:path';
import { ErrorCode, ScalpelError } from '../../errors.js';
import type { ModelFamily, ModelSourceInfo, PrunableModel } from '../../plugin-api/model.js';
import { writeJsonAtomic } from '../../util/atomic-file.js';
import { isObject } from '../../util/is-object.js';
import { HfCausalLmModel, hfCausalLmFamilyName } from './causal-lm-model.js';
import { configFile, isHfCheckpointDir, openCheckpoint } from './checkpoint-dir.js';
import { checkpointLayout, checkStoredTensors } from './checkpoint-check.js';
import { parseHfConfig } from './hf-config.js';
import { isVitCheckpointDir } from './image-family.js';
import { loadHfCheckpoint, type HfLoadOptions } from './load-checkpoint.js';
import { resolveSavedOptions } from './saved-options.js';
import { saveHfCheckpoint } from './save-checkpoint.js';

/**
 * Written beside a saved checkpoint when it was loaded with non-default options (includeLmHead),
 * and returned by save: load then takes the options back with the directory.
 */
export const loadOptionsFile = 'hf-causal-lm.options.json';

function optionsOf(raw: unknown, where: string): HfLoadOptions {
  if (raw === undefined) return {};
  const include = isObject(raw) ? raw.includeLmHead : undefined;
  if (!isObject(raw) || (include !== undefined && typeof include !== 'boolean')) {
    throw new ScalpelError(
      ErrorCode.RecipeSchema,
      `${where}: options of family '${hfCausalLmFamilyName}' must be { includeLmHead?: boolean }, got ${JSON.stringify(raw)}`,
      { hint: 'includeLmHead: true makes the untied lm_head prunable too' },
    );
  }
  return include === undefined ? {} : { includeLmHead: include };
}

const asHf = (model: PrunableModel): HfCausalLmModel =>
  ownModel(model, HfCausalLmModel, hfCausalLmFamilyName);

export const hfCausalLmFamily: ModelFamily = {
  name: hfCausalLmFamilyName,
  version: '1',
  description:
    'Hugging Face causal LMs (GPT-2, Llama, Mistral): a directory with config.json, *.safetensors and tokenizer files',
  schema: {
    type: 'object',
    properties: {
      includeLmHead: {
        description: 'Make the untied lm_head a prunable operator too (default: only the blocks)',
        type: 'boolean',
      },
    },
    additionalProperties: false,
  },

  // A ViT/DeiT directory is the image family's (families are tried in name order).
  recognizes: async (path) => (await isHfCheckpointDir(path)) && !(await isVitCheckpointDir(path)),

  async inspect(path, shownAs = path): Promise<ModelSourceInfo> {
    const ck = await openCheckpoint(path);
    try {
      const config = parseHfConfig(ck.config, join(shownAs, configFile));
      checkStoredTensors(checkpointLayout(config, new Set(ck.tensorNames())), ck, shownAs);
      return { files: [...ck.files] };
    } finally {
      await ck.close();
    }
  },

  async load(path, options) {
    const { dir, saved } = await resolveSavedOptions(path, loadOptionsFile, optionsOf);
    return loadHfCheckpoint(dir, { ...saved, ...optionsOf(options, path) });
  },

  async save(model, dir) {
    const hf = asHf(model);
    await saveHfCheckpoint(hf, dir);
    if (!hf.operators.some((o) => o.name === 'lm_head')) return '.';
    await writeJsonAtomic(join(dir, loadOptionsFile), { includeLmHead: true });
    return loadOptionsFile;
  },
};
