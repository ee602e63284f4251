// GPT-2 (transformers' GPT2LMHeadModel) from its HF tensors: learned positions, pre-LayerNorm
// blocks of causal multi-head attention (fused q/k/v projection c_attn) and a gelu_new MLP, a
// final LayerNorm, and logits against the tied token embedding. GPT-2 stores its projections as
// Conv1D weights [in, out], which already are the [fanIn, units] view ('same' layout).
import * as tf from '@tensorflow/tfjs-core';
import { ErrorCode, ScalpelError } from '../../errors.js';
import type { Architecture, ForwardContext } from './architecture.js';
import {
  lmHeadLayout,
  type CheckpointLayout,
  type LinearSpec,
  type TensorSpec,
} from './checkpoint-tensors.js';
import type { Gpt2Config } from './hf-config.js';
import {
  causalAttention,
  embed,
  geluNew,
  layerNorm,
  matMulTransposedWeight,
  splitHeads,
} from './transformer-ops.js';

interface Gpt2Block {
  readonly ln1: string;
  readonly ln2: string;
  readonly attn: LinearSpec;
  readonly attnProj: LinearSpec;
  readonly fc: LinearSpec;
  readonly mlpProj: LinearSpec;
}

/** GPT-2 checkpoints come with or without the `transformer.` prefix (GPT2LMHeadModel vs GPT2Model). */
function prefixOf(names: ReadonlySet<string>): string {
  return names.has('transformer.wte.weight') ? 'transformer.' : '';
}

export class Gpt2Architecture implements Architecture {
  readonly name = 'gpt2' as const;
  readonly layout: CheckpointLayout;
  private readonly blocks: Gpt2Block[] = [];
  private readonly wte: string;
  private readonly wpe: string;
  private readonly lnF: string;

  /** `names`: the checkpoint's tensor names (they decide the prefix). */
  constructor(
    readonly config: Gpt2Config,
    names: ReadonlySet<string>,
  ) {
    const p = prefixOf(names);
    const { hiddenSize: d, intermediateSize: inner, vocabSize } = config;
    this.wte = `${p}wte.weight`;
    this.wpe = `${p}wpe.weight`;
    const tensors: TensorSpec[] = [
      { name: this.wte, shape: [vocabSize, d] },
      { name: this.wpe, shape: [config.maxPositions, d] },
    ];
    const linears: LinearSpec[] = [];
    const conv1d = (name: string, fanIn: number, units: number, block: string): LinearSpec => {
      tensors.push(
        { name: `${name}.weight`, shape: [fanIn, units] },
        { name: `${name}.bias`, shape: [units] },
      );
      const spec: LinearSpec = {
        name,
        weight: `${name}.weight`,
        bias: `${name}.bias`,
        layout: 'same',
        fanIn,
        units,
        block,
      };
      linears.push(spec);
      return spec;
    };
    const norm = (name: string): string => {
      tensors.push({ name: `${name}.weight`, shape: [d] }, { name: `${name}.bias`, shape: [d] });
      return name;
    };
    for (let i = 0; i < config.numLayers; i++) {
      const h = `${p}h.${i}`;
      const ln1 = norm(`${h}.ln_1`);
      const attn = conv1d(`${h}.attn.c_attn`, d, 3 * d, h);
      const attnProj = conv1d(`${h}.attn.c_proj`, d, d, h);
      const ln2 = norm(`${h}.ln_2`);
      const fc = conv1d(`${h}.mlp.c_fc`, d, inner, h);
      const mlpProj = conv1d(`${h}.mlp.c_proj`, inner, d, h);
      this.blocks.push({ ln1, ln2, attn, attnProj, fc, mlpProj });
    }
    this.lnF = norm(`${p}ln_f`);
    const head = lmHeadLayout(config.tieWordEmbeddings, vocabSize, d, this.wte, tensors);
    this.layout = {
      tensors,
      linears,
      ...head,
      // Causal-mask buffers older transformers saved; GPT2LMHeadModel ignores them on load.
      ignored: /^(transformer\.)?h\.\d+\.attn\.(bias|masked_bias)$/,
    };
  }

  hidden(ctx: ForwardContext, ids: tf.Tensor2D): tf.Tensor2D {
    const c = this.config;
    const { batch, seq } = ctx;
    const d = c.hiddenSize;
    if (seq > c.maxPositions) {
      throw new ScalpelError(
        ErrorCode.Data,
        `sequences of ${seq} tokens are longer than GPT-2's ${c.maxPositions} positions (n_positions)`,
        {
          hint: `use sequences of at most ${c.maxPositions} tokens`,
        },
      );
    }
    const tokens = tf.reshape(embed(ctx.param(this.wte) as tf.Tensor2D, tf.reshape(ids, [-1])), [
      batch,
      seq,
      d,
    ]);
    const positions = tf.slice(ctx.param(this.wpe), [0, 0], [seq, d]);
    let h = ctx.dropout(
      tf.reshape<tf.Rank.R2>(tf.add(tokens, positions), [batch * seq, d]),
      c.embdDropout,
    );
    const shape = {
      batch,
      seq,
      heads: c.numHeads,
      kvHeads: c.numHeads,
      headDim: c.headDim,
      scale: 1 / Math.sqrt(c.headDim),
    };
    const heads = (x: tf.Tensor2D, at: number): tf.Tensor4D =>
      splitHeads(tf.slice(x, [0, at * d], [-1, d]), batch, seq, c.numHeads, c.headDim);
    for (const b of this.blocks) {
      if (ctx.finished()) break; // the rest of the forward changes no recorded input
      const x = h;
      const y = ctx.block(() => {
        const qkv = ctx.linear(b.attn, this.norm(ctx, b.ln1, x));
        const attended = causalAttention(heads(qkv, 0), heads(qkv, 1), heads(qkv, 2), shape, (p) =>
          ctx.dropout(p, c.attnDropout),
        );
        return tf.add(x, ctx.dropout(ctx.linear(b.attnProj, attended), c.residDropout));
      });
      h = ctx.block(() => {
        const m = ctx.linear(b.mlpProj, geluNew(ctx.linear(b.fc, this.norm(ctx, b.ln2, y))));
        return tf.add(y, ctx.dropout(m, c.residDropout));
      });
    }
    return this.norm(ctx, this.lnF, h);
  }

  head(ctx: ForwardContext, hidden: tf.Tensor2D): tf.Tensor2D {
    const head = this.layout.lmHead;
    return head !== undefined
      ? ctx.linear(head, hidden)
      : matMulTransposedWeight(hidden, ctx.param(this.wte) as tf.Tensor2D);
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
