// A Hugging Face checkpoint directory loaded as an HfCausalLmModel that remembers where it came
// from: config.json as stored, each tensor's stored dtype and the directory whose tokenizer files
// travel with it, so that saving or exporting it gives back the same kind of checkpoint. Files
// that are not the checkpoint's (masks.json / masks.bin of a scalpel artifact) are never read.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { openCheckpoint, configFile } from './checkpoint-dir.js';
import { checkpointLayout, checkStoredTensors } from './checkpoint-check.js';
import { HfCausalLmModel } from './causal-lm-model.js';
import { CheckpointWeights } from './checkpoint-weights.js';
import { parseHfConfig, type HfCausalLmConfig } from './hf-config.js';
import type { SafetensorsDtype } from './safetensors.js';

export interface HfCheckpointSource {
  /** The directory the model was loaded from (absolute). */
  readonly dir: string;
  /** config.json as stored, with the fields scalpel does not read. */
  readonly configJson: Readonly<Record<string, unknown>>;
  /** Each stored tensor's dtype, by HF name. */
  readonly dtypes: ReadonlyMap<string, SafetensorsDtype>;
}

export interface HfLoadOptions {
  /** Make the untied lm_head a prunable operator too. */
  readonly includeLmHead?: boolean;
}

/** An HfCausalLmModel loaded from a checkpoint directory. */
export class HfCheckpointModel extends HfCausalLmModel {
  readonly tokenizerFile?: string;
  constructor(
    config: HfCausalLmConfig,
    weights: ReadonlyMap<string, Float32Array>,
    options: ConstructorParameters<typeof HfCausalLmModel>[2],
    readonly source: HfCheckpointSource,
  ) {
    super(config, weights, options);
    const tokenizer = join(source.dir, 'tokenizer.json');
    if (existsSync(tokenizer)) this.tokenizerFile = tokenizer;
  }
}

/**
 * Load the checkpoint in `dir`: config and headers are checked before any tensor data is read;
 * each tensor is then read once, as its variable is made, and its float32 copy dropped straight
 * away (at most one tensor's copy is alive, so peak memory is about the model once).
 */
export async function loadHfCheckpoint(
  dir: string,
  options: HfLoadOptions = {},
): Promise<HfCheckpointModel> {
  const ck = await openCheckpoint(dir);
  try {
    const config = parseHfConfig(ck.config, join(ck.dir, configFile));
    const names = ck.tensorNames();
    const layout = checkpointLayout(config, new Set(names));
    checkStoredTensors(layout, ck, ck.dir);
    const used = new Set(layout.tensors.map((t) => t.name));
    if (layout.tiedCopy !== undefined) used.add(layout.tiedCopy.name);
    // buffers transformers ignores too (checked above) are never read
    const kept = names.filter((name) => used.has(name));
    const shapes = new Map(kept.map((name) => [name, ck.shapeOf(name)]));
    const dtypes = new Map(kept.map((name) => [name, ck.dtypeOf(name)]));
    return new HfCheckpointModel(
      config,
      new CheckpointWeights(ck, kept),
      { includeLmHead: options.includeLmHead === true, shapes },
      { dir: ck.dir, configJson: ck.config, dtypes },
    );
  } finally {
    await ck.close();
  }
}
