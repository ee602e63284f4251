// ViT and DeiT image classifiers (transformers' ViTForImageClassification,
// DeiTForImageClassification[WithTeacher]) from their HF tensors: the patch embedding (a Conv2d
// with stride = kernel = P, i.e. a linear projection of each non-overlapping patch flattened as
// [C, P, P]), the class token (and DeiT's distillation token), learned position embeddings,
// pre-LayerNorm encoder blocks of full multi-head self-attention and a gelu MLP, a final LayerNorm,
// and the linear head on the class token (with teacher: the mean of the class-token and the
// distillation-token heads). Every projection is an nn.Linear [out, in] ('transposed' layout).
import * as tf from '@tensorflow/tfjs-core';
import type { ForwardContext } from './architecture.js';
import type { CheckpointLayout, LinearSpec, TensorSpec } from './checkpoint-tensors.js';
import { fullAttention, gelu, geluNew, layerNorm, splitHeads } from './transformer-ops.js';
import { vitSequence, type VitConfig } from './vit-config.js';

/** Which rows an operator's X has: one per patch, per token, or per image. */
export type VitRows = 'patches' | 'tokens' | 'images';

export interface VitLinearSpec extends LinearSpec {
  readonly rows: VitRows;
}

interface VitBlock {
  readonly lnBefore: string;
  readonly lnAfter: string;
  readonly query: VitLinearSpec;
  readonly key: VitLinearSpec;
  readonly value: VitLinearSpec;
  readonly attnOut: VitLinearSpec;
  readonly intermediate: VitLinearSpec;
  readonly output: VitLinearSpec;
}

export interface VitLayout extends CheckpointLayout {
  readonly linears: readonly VitLinearSpec[];
  readonly patchEmbedding: VitLinearSpec;
  /** The classification head(s): `classifier`, or `cls_classifier` + `distillation_classifier`. */
  readonly heads: readonly VitLinearSpec[];
}

export class VitArchitecture {
  readonly layout: VitLayout;
  readonly prefix: string;
  private readonly blocks: VitBlock[] = [];
  private readonly clsToken: string;
  private readonly distillationToken: string | undefined;
  private readonly positions: string;
  private readonly finalNorm: string;

  constructor(readonly config: VitConfig) {
    const c = config;
    const p = c.modelType === 'deit' ? 'deit.' : 'vit.';
    this.prefix = p;
    const d = c.hiddenSize;
    const { tokens } = vitSequence(c);
    const emb = `${p}embeddings`;
    this.clsToken = `${emb}.cls_token`;
    this.distillationToken = c.modelType === 'deit' ? `${emb}.distillation_token` : undefined;
    this.positions = `${emb}.position_embeddings`;
    const tensors: TensorSpec[] = [{ name: this.clsToken, shape: [1, 1, d] }];
    if (this.distillationToken !== undefined)
      tensors.push({ name: this.distillationToken, shape: [1, 1, d] });
    tensors.push({ name: this.positions, shape: [1, tokens, d] });

    const linear = (
      name: string,
      fanIn: number,
      units: number,
      rows: VitRows,
      opts: { block?: string; bias?: boolean; shape?: readonly number[] } = {},
    ): VitLinearSpec => {
      tensors.push({ name: `${name}.weight`, shape: opts.shape ?? [units, fanIn] });
      const bias = opts.bias ?? true;
      if (bias) tensors.push({ name: `${name}.bias`, shape: [units] });
      return {
        name,
        weight: `${name}.weight`,
        ...(bias ? { bias: `${name}.bias` } : {}),
        layout: 'transposed',
        fanIn,
        units,
        rows,
        ...(opts.block !== undefined ? { block: opts.block } : {}),
      };
    };
    const norm = (name: string): string => {
      tensors.push({ name: `${name}.weight`, shape: [d] }, { name: `${name}.bias`, shape: [d] });
      return name;
    };
    const { numChannels: ch, patchSize: ps } = c;
    // The Conv2d weight [H, C, P, P] is, row for row, the nn.Linear [H, C·P·P] of a flat patch.
    const patchEmbedding = linear(
      `${emb}.patch_embeddings.projection`,
      ch * ps * ps,
      d,
      'patches',
      {
        shape: [d, ch, ps, ps],
      },
    );
    const linears: VitLinearSpec[] = [];
    for (let i = 0; i < c.numLayers; i++) {
      const block = `${p}encoder.layer.${i}`;
      const att = `${block}.attention`;
      const lnBefore = norm(`${block}.layernorm_before`);
      const qkv = { block, bias: c.qkvBias };
      const b: VitBlock = {
        lnBefore,
        query: linear(`${att}.attention.query`, d, d, 'tokens', qkv),
        key: linear(`${att}.attention.key`, d, d, 'tokens', qkv),
        value: linear(`${att}.attention.value`, d, d, 'tokens', qkv),
        attnOut: linear(`${att}.output.dense`, d, d, 'tokens', { block }),
        lnAfter: norm(`${block}.layernorm_after`),
        intermediate: linear(`${block}.intermediate.dense`, d, c.intermediateSize, 'tokens', {
          block,
        }),
        output: linear(`${block}.output.dense`, c.intermediateSize, d, 'tokens', { block }),
      };
      this.blocks.push(b);
      linears.push(b.query, b.key, b.value, b.attnOut, b.intermediate, b.output);
    }
    this.finalNorm = norm(`${p}layernorm`);
    const heads =
      c.headClass === 'DeiTForImageClassificationWithTeacher'
        ? [
            linear('cls_classifier', d, c.numLabels, 'images'),
            linear('distillation_classifier', d, c.numLabels, 'images'),
          ]
        : [linear('classifier', d, c.numLabels, 'images')];
    this.layout = {
      tensors,
      linears,
      patchEmbedding,
      heads,
      lmHead: undefined,
      tiedCopy: undefined,
      ignored: /(?!)/, // transformers saves nothing else for these classes
    };
  }

  /** Patch rows [batch·patches, C·P·P] of images [batch, H, W, C] (or flat [batch, H·W·C]). */
  patches(images: tf.Tensor): tf.Tensor2D {
    const c = this.config;
    const { gridH, gridW } = vitSequence(c);
    const ps = c.patchSize;
    const batch = images.shape[0] ?? 0;
    // [B·gh, P, gw, P, C] → [B·gh, gw, C, P, P]: each patch in the conv weight's [C, P, P] order.
    const split = tf.reshape(images, [batch * gridH, ps, gridW, ps, c.numChannels]);
    const ordered = tf.transpose(split, [0, 2, 4, 1, 3]);
    return tf.reshape(ordered, [batch * gridH * gridW, c.numChannels * ps * ps]);
  }

  /** Logits [batch, numLabels] of images [batch, H, W, C]; ctx.seq is the token count. */
  logits(ctx: ForwardContext, images: tf.Tensor): tf.Tensor2D {
    const c = this.config;
    const { batch } = ctx;
    const d = c.hiddenSize;
    const { patches, tokens } = vitSequence(c);
    const embedded = ctx.linear(this.layout.patchEmbedding, this.patches(images));
    const special = [this.clsToken, this.distillationToken]
      .filter((n): n is string => n !== undefined)
      .map((n) => tf.tile(ctx.param(n), [batch, 1, 1]));
    const sequence = tf.concat([...special, tf.reshape(embedded, [batch, patches, d])], 1);
    let h = ctx.dropout(
      tf.reshape<tf.Rank.R2>(tf.add(sequence, ctx.param(this.positions)), [batch * tokens, d]),
      c.hiddenDropout,
    );
    const heads = (x: tf.Tensor2D): tf.Tensor4D =>
      splitHeads(x, batch, tokens, c.numHeads, c.headDim);
    const scale = 1 / Math.sqrt(c.headDim);
    for (const b of this.blocks) {
      if (ctx.finished()) return h; // the rest of the forward changes no recorded input
      const x = h;
      const y = ctx.block(() => {
        const n = this.norm(ctx, b.lnBefore, x);
        const attended = fullAttention(
          heads(ctx.linear(b.query, n)),
          heads(ctx.linear(b.key, n)),
          heads(ctx.linear(b.value, n)),
          scale,
          (probs) => ctx.dropout(probs, c.attentionDropout),
        );
        return tf.add(x, ctx.dropout(ctx.linear(b.attnOut, attended), c.hiddenDropout));
      });
      h = ctx.block(() => {
        const inner = ctx.linear(b.intermediate, this.norm(ctx, b.lnAfter, y));
        const act = c.hiddenAct === 'gelu' ? gelu(inner) : geluNew(inner);
        return tf.add(y, ctx.dropout(ctx.linear(b.output, act), c.hiddenDropout));
      });
    }
    const out = tf.reshape(this.norm(ctx, this.finalNorm, h), [batch, tokens, d]);
    const token = (t: number): tf.Tensor2D =>
      tf.reshape(tf.slice(out, [0, t, 0], [batch, 1, d]), [batch, d]);
    const [first, second] = this.layout.heads;
    const logits = ctx.linear(first as VitLinearSpec, token(0));
    if (second === undefined) return logits;
    // With teacher: the mean of the class-token and the distillation-token predictions.
    return tf.mul(tf.add(logits, ctx.linear(second, token(1))), 0.5);
  }

  private norm(ctx: ForwardContext, name: string, x: tf.Tensor2D): tf.Tensor2D {
    return layerNorm(
      x,
      ctx.param(`${name}.weight`),
      ctx.param(`${name}.bias`),
      this.config.layerNormEps,
    );
  }
}
