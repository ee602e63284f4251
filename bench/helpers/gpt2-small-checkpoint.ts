// A GPT-2-small-shaped Hugging Face checkpoint with random weights, for the memory benchmarks:
// n_embd 768, 12 layers, 12 heads, 1024 positions, vocabulary 50257 — 124,439,808 parameters,
// 498 MB of F32 safetensors. Weights are drawn as transformers initialises them (N(0, 0.02²),
// norms 1, biases 0) and streamed one tensor at a time, so the writer never holds the model.
import { promises as fs } from 'node:fs';
import { join } from 'node:path';
import { checkpointLayout } from '../../src/models/hf/checkpoint-check.js';
import { configFile, singleWeightsFile } from '../../src/models/hf/checkpoint-dir.js';
import { parseHfConfig } from '../../src/models/hf/hf-config.js';
import { writeSafetensorsStreamed } from '../../src/models/hf/safetensors.js';
import { Rng } from '../../src/util/rng.js';

export const gpt2SmallConfig = {
  model_type: 'gpt2',
  architectures: ['GPT2LMHeadModel'],
  vocab_size: 50257,
  n_embd: 768,
  n_layer: 12,
  n_head: 12,
  n_positions: 1024,
  layer_norm_epsilon: 1e-5,
  tie_word_embeddings: true,
} as const;

/** Write config.json and model.safetensors into `dir`; returns the parameter count. */
export async function writeGpt2SmallCheckpoint(dir: string): Promise<number> {
  const layout = checkpointLayout(parseHfConfig({ ...gpt2SmallConfig }), new Set());
  let params = 0;
  await writeSafetensorsStreamed(
    join(dir, singleWeightsFile),
    layout.tensors.map((t) => {
      const size = t.shape.reduce((a, b) => a * b, 1);
      params += size;
      return {
        name: t.name,
        shape: t.shape,
        values: () => {
          const data = new Float32Array(size);
          if (/(ln_\d|ln_f)\.weight$/.test(t.name)) data.fill(1);
          else if (!t.name.endsWith('.bias')) {
            const r = new Rng(1).fork(t.name);
            for (let i = 0; i < size; i++) data[i] = 0.02 * r.normal();
          }
          return data;
        },
      };
    }),
    { format: 'pt' },
  );
  await fs.writeFile(join(dir, configFile), JSON.stringify(gpt2SmallConfig, null, 2));
  return params;
}
