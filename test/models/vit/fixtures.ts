// Tiny random ViT / DeiT checkpoints on disk in transformers' exact names and shapes (written here
// from modeling_vit.py / modeling_deit.py, not from scalpel's layout), with the config.json
// save_pretrained would write, and random images to feed them.
import { writeCheckpoint } from '../../../src/models/hf/checkpoint-dir.js';
import { Rng } from '../../../src/util/rng.js';
import { tempDir } from '../../helpers/paths.js';
import type { RefVitConfig } from './reference.js';
import { join } from 'node:path';

export interface VitCase {
  readonly name: string;
  readonly ref: RefVitConfig;
  readonly json: Record<string, unknown>;
  readonly shapes: ReadonlyMap<string, readonly number[]>;
  readonly weights: ReadonlyMap<string, Float32Array>;
}

const base = {
  image: 8,
  patch: 4,
  hidden: 16,
  layers: 2,
  heads: 2,
  inner: 24,
  labels: 3,
  eps: 1e-6,
} as const;

export const vitRef: RefVitConfig = {
  ...base,
  deit: false,
  teacher: false,
  channels: 3,
  qkvBias: true,
};
export const deitRef: RefVitConfig = {
  ...base,
  deit: true,
  teacher: true,
  channels: 1,
  qkvBias: false,
};

function shapesOf(c: RefVitConfig): Map<string, number[]> {
  const p = c.deit ? 'deit.' : 'vit.';
  const D = c.hidden;
  const patches = (c.image / c.patch) ** 2;
  const s = new Map<string, number[]>();
  s.set(`${p}embeddings.cls_token`, [1, 1, D]);
  if (c.deit) s.set(`${p}embeddings.distillation_token`, [1, 1, D]);
  s.set(`${p}embeddings.position_embeddings`, [1, patches + (c.deit ? 2 : 1), D]);
  s.set(`${p}embeddings.patch_embeddings.projection.weight`, [D, c.channels, c.patch, c.patch]);
  s.set(`${p}embeddings.patch_embeddings.projection.bias`, [D]);
  const lin = (name: string, out: number, inn: number, bias = true): void => {
    s.set(`${name}.weight`, [out, inn]);
    if (bias) s.set(`${name}.bias`, [out]);
  };
  for (let i = 0; i < c.layers; i++) {
    const L = `${p}encoder.layer.${i}`;
    for (const m of ['query', 'key', 'value'])
      lin(`${L}.attention.attention.${m}`, D, D, c.qkvBias);
    lin(`${L}.attention.output.dense`, D, D);
    lin(`${L}.intermediate.dense`, c.inner, D);
    lin(`${L}.output.dense`, D, c.inner);
    lin(`${L}.layernorm_before`, D, 0);
    lin(`${L}.layernorm_after`, D, 0);
  }
  lin(`${p}layernorm`, D, 0);
  if (c.teacher) {
    lin('cls_classifier', c.labels, D);
    lin('distillation_classifier', c.labels, D);
  } else lin('classifier', c.labels, D);
  for (const [name, shape] of s) if (shape[1] === 0) s.set(name, [shape[0] as number]);
  return s;
}

function jsonOf(c: RefVitConfig): Record<string, unknown> {
  const labels = Array.from({ length: c.labels }, (_, i) => `class-${i}`);
  return {
    model_type: c.deit ? 'deit' : 'vit',
    architectures: [
      c.deit
        ? c.teacher
          ? 'DeiTForImageClassificationWithTeacher'
          : 'DeiTForImageClassification'
        : 'ViTForImageClassification',
    ],
    hidden_size: c.hidden,
    num_hidden_layers: c.layers,
    num_attention_heads: c.heads,
    intermediate_size: c.inner,
    hidden_act: 'gelu',
    hidden_dropout_prob: 0.0,
    attention_probs_dropout_prob: 0.0,
    initializer_range: 0.02,
    layer_norm_eps: c.eps,
    image_size: c.image,
    patch_size: c.patch,
    num_channels: c.channels,
    qkv_bias: c.qkvBias,
    encoder_stride: c.patch,
    id2label: Object.fromEntries(labels.map((l, i) => [String(i), l])),
    label2id: Object.fromEntries(labels.map((l, i) => [l, i])),
    torch_dtype: 'float32',
    transformers_version: '4.46.0',
  };
}

/** Random weights big enough that every part of the forward shows in the logits. */
export function vitCase(name: string, ref: RefVitConfig, seed: number): VitCase {
  const rng = new Rng(seed);
  const shapes = shapesOf(ref);
  const weights = new Map<string, Float32Array>();
  for (const [n, shape] of shapes) {
    const size = shape.reduce((a, b) => a * b, 1);
    const norm = /layernorm(_before|_after)?\.weight$/.test(n);
    const std = n.endsWith('.bias') || norm ? 0.1 : 0.4;
    weights.set(
      n,
      Float32Array.from({ length: size }, () => (norm ? 1 : 0) + std * rng.normal()),
    );
  }
  return { name, ref, json: jsonOf(ref), shapes, weights };
}

/** Write the case as a save_pretrained directory; returns it. */
export async function writeVitCase(
  c: VitCase,
  edit?: (
    json: Record<string, unknown>,
    tensors: Map<string, { shape: readonly number[]; data: Float32Array }>,
  ) => void,
): Promise<string> {
  const tensors = new Map(
    [...c.shapes].map(([n, shape]) => [n, { shape, data: c.weights.get(n) as Float32Array }]),
  );
  const json = structuredClone(c.json);
  edit?.(json, tensors);
  const dir = join(tempDir('scalpel-vit-'), 'model');
  await writeCheckpoint(dir, {
    config: json,
    tensors: [...tensors].map(([name, t]) => ({ name, ...t })),
  });
  return dir;
}

/** `count` random images of the case's size, each H·W·C values in (y, x, c) order. */
export function randomImages(c: RefVitConfig, count: number, seed: number): Float32Array[] {
  const rng = new Rng(seed);
  const size = c.image * c.image * c.channels;
  return Array.from({ length: count }, () =>
    Float32Array.from({ length: size }, () => rng.normal()),
  );
}
