// Tiny random checkpoints on disk for the hf-causal-lm family tests, in real HF names (the
// hf-forward weights): GPT-2 with the `transformer.` prefix in float32, sharded, with a GPT-2
// tokenizer's files; Llama in BF16 in one file with tokenizer.json. Each comes with the weights
// the model must hold after loading (BF16: rounded here, by the test's own nearest-even rounding)
// and the float64 reference forward.
import { promises as fs } from 'node:fs';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { writeCheckpoint } from '../../../src/models/hf/checkpoint-dir.js';
import type { FloatDtype } from '../../../src/models/hf/safetensors.js';
import type { PrunableModel } from '../../../src/plugin-api/model.js';
import { Rng } from '../../../src/util/rng.js';
import { tempDir } from '../../helpers/paths.js';
import {
  gpt2Json,
  gpt2Weights,
  llamaJson,
  llamaWeights,
  type RawConfig,
} from '../hf-forward/checkpoints.js';
import { refGpt2, refLlama, type RefResult } from '../hf-forward/reference.js';
import { bf16Value, nearestBf16 } from '../hf/reference-floats.js';

export interface CheckpointCase {
  readonly name: string;
  readonly json: RawConfig;
  /** The values the model holds once loaded (dtype rounding applied). */
  readonly weights: ReadonlyMap<string, Float32Array>;
  /** Stored shape of every tensor. */
  readonly shapes: ReadonlyMap<string, readonly number[]>;
  readonly dtype: FloatDtype;
  /** Tokenizer files written beside the weights: name → bytes. */
  readonly tokenizer: ReadonlyMap<string, Uint8Array>;
  /** Largest shard (bytes), when the checkpoint is sharded. */
  readonly shardBytes?: number;
  /** The prunable operators the family must report, in model order. */
  readonly operators: readonly string[];
  reference(weights: ReadonlyMap<string, Float32Array>, ids: number[][]): RefResult;
}

/** HF shapes of the hf-forward weights (GPT-2 Conv1D [in, out], Llama nn.Linear [out, in]). */
function gpt2Shapes(prefix: string): Map<string, number[]> {
  const [d, inner] = [16, 64];
  const s = new Map<string, number[]>([
    [`${prefix}wte.weight`, [50, d]],
    [`${prefix}wpe.weight`, [12, d]],
  ]);
  const pair = (name: string, fanIn: number, units: number): void => {
    s.set(`${name}.weight`, fanIn === 0 ? [units] : [fanIn, units]);
    s.set(`${name}.bias`, [units]);
  };
  for (let i = 0; i < 2; i++) {
    const h = `${prefix}h.${i}`;
    pair(`${h}.ln_1`, 0, d);
    pair(`${h}.attn.c_attn`, d, 3 * d);
    pair(`${h}.attn.c_proj`, d, d);
    pair(`${h}.ln_2`, 0, d);
    pair(`${h}.mlp.c_fc`, d, inner);
    pair(`${h}.mlp.c_proj`, inner, d);
  }
  pair(`${prefix}ln_f`, 0, d);
  return s;
}

function llamaShapes(): Map<string, number[]> {
  const [d, inner] = [16, 24];
  const s = new Map<string, number[]>([['model.embed_tokens.weight', [50, d]]]);
  for (let i = 0; i < 2; i++) {
    const l = `model.layers.${i}`;
    s.set(`${l}.input_layernorm.weight`, [d]);
    s.set(`${l}.self_attn.q_proj.weight`, [16, d]);
    s.set(`${l}.self_attn.k_proj.weight`, [8, d]);
    s.set(`${l}.self_attn.v_proj.weight`, [8, d]);
    s.set(`${l}.self_attn.o_proj.weight`, [d, 16]);
    s.set(`${l}.post_attention_layernorm.weight`, [d]);
    s.set(`${l}.mlp.gate_proj.weight`, [inner, d]);
    s.set(`${l}.mlp.up_proj.weight`, [inner, d]);
    s.set(`${l}.mlp.down_proj.weight`, [d, inner]);
  }
  s.set('model.norm.weight', [d]);
  s.set('lm_head.weight', [50, d]);
  return s;
}

/** Arbitrary bytes standing in for a tokenizer file (the family copies them, never parses them). */
function fileBytes(seed: number, text: string): Uint8Array {
  const rng = new Rng(seed);
  const tail = Uint8Array.from({ length: 64 }, () => rng.int(256));
  return new Uint8Array(Buffer.concat([Buffer.from(text, 'utf8'), tail]));
}

export function roundedToBf16(w: ReadonlyMap<string, Float32Array>): Map<string, Float32Array> {
  return new Map(
    [...w].map(([n, v]) => [n, Float32Array.from(v, (x) => bf16Value(nearestBf16(x)))]),
  );
}

const blockOps = (names: (i: number) => string[]): string[] => [...names(0), ...names(1)];

export const gpt2Case: CheckpointCase = {
  name: 'GPT-2 (transformer. prefix, F32, sharded)',
  json: gpt2Json,
  weights: gpt2Weights(11, 'transformer.'),
  shapes: gpt2Shapes('transformer.'),
  dtype: 'F32',
  tokenizer: new Map([
    ['vocab.json', fileBytes(1, '{"hello": 0}')],
    ['merges.txt', fileBytes(2, '#version: 0.2\nh e\n')],
    ['tokenizer_config.json', fileBytes(3, '{"model_max_length": 12}')],
  ]),
  shardBytes: 16_000,
  operators: blockOps((i) =>
    ['attn.c_attn', 'attn.c_proj', 'mlp.c_fc', 'mlp.c_proj'].map((o) => `transformer.h.${i}.${o}`),
  ),
  reference: (w, ids) => refGpt2(gpt2Json, w, ids, {}, 'transformer.'),
};

export const llamaCase: CheckpointCase = {
  name: 'Llama (GQA 4/2, untied, BF16)',
  json: { ...llamaJson, torch_dtype: 'bfloat16', bos_token_id: 1 },
  weights: roundedToBf16(llamaWeights(12)),
  shapes: llamaShapes(),
  dtype: 'BF16',
  tokenizer: new Map([['tokenizer.json', fileBytes(4, '{"version": "1.0", "model": {}}')]]),
  operators: blockOps((i) =>
    ['q_proj', 'k_proj', 'v_proj', 'o_proj']
      .map((o) => `model.layers.${i}.self_attn.${o}`)
      .concat(['gate_proj', 'up_proj', 'down_proj'].map((o) => `model.layers.${i}.mlp.${o}`)),
  ),
  reference: (w, ids) => refLlama(llamaJson, w, ids),
};

/**
 * Write `c` as a checkpoint in a fresh directory (optionally with `edit` applied to the tensors
 * first, for broken checkpoints); returns the directory.
 */
export async function writeCase(
  c: CheckpointCase,
  edit?: (tensors: Map<string, { shape: readonly number[]; data: Float32Array }>) => void,
  json: RawConfig = c.json,
): Promise<string> {
  const src = tempDir('scalpel-hf-src-');
  for (const [name, bytes] of c.tokenizer) await fs.writeFile(join(src, name), bytes);
  const tensors = new Map(
    [...c.weights].map(([name, data]) => [name, { shape: c.shapes.get(name) ?? [], data }]),
  );
  edit?.(tensors);
  const dir = join(tempDir('scalpel-hf-ckpt-'), 'model');
  await writeCheckpoint(dir, {
    config: json,
    tensors: [...tensors].map(([name, t]) => ({ name, ...t })),
    dtype: c.dtype,
    copyFrom: src,
    ...(c.shardBytes !== undefined ? { shardBytes: c.shardBytes } : {}),
  });
  return dir;
}

/** Logits of `model` for `ids`, as a plain array. */
export function logitsOf(model: PrunableModel, ids: number[][]): Float32Array {
  return tf.tidy(() =>
    model.forward(tf.tensor2d(ids, undefined, 'int32')).output.dataSync(),
  ) as Float32Array;
}

/** The dtype of every tensor in a safetensors file, read from its header by hand. */
export async function storedDtypes(file: string): Promise<Map<string, string>> {
  const bytes = await fs.readFile(file);
  const n = Number(bytes.readBigUInt64LE(0));
  const header = JSON.parse(bytes.subarray(8, 8 + n).toString('utf8')) as Record<
    string,
    { dtype?: string }
  >;
  return new Map(
    Object.entries(header)
      .filter(([k]) => k !== '__metadata__')
      .map(([k, v]) => [k, v.dtype ?? '']),
  );
}
