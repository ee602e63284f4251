// Llama and Mistral (transformers' LlamaForCausalLM / MistralForCausalLM without a sliding
// window) from their HF tensors: RMSNorm pre-norm blocks of causal grouped-query attention with
// rotary embeddings and a SwiGLU MLP down(silu(gate(x))·up(x)), a final RMSNorm and an untied (or
// tied) lm_head. All projections are bias-free nn.Linear weights [out, in]: 'transposed' layout.
import * as tf from '@tensorflow/tfjs-core';
import type { Architecture, ForwardContext } from './architecture.js';
import {
  lmHeadLayout,
  type CheckpointLayout,
  type LinearSpec,
  type TensorSpec,
} from './checkpoint-tensors.js';
import type { LlamaConfig } from './hf-config.js';
import { applyRotary, rotaryTables, type RotaryTables } from './rotary.js';
import {
  causalAttention,
  embed,
  matMulTransposedWeight,
  rmsNorm,
  silu,
  splitHeads,
} from './transformer-ops.js';

interface LlamaBlock {
  readonly inputNorm: string;
  readonly postNorm: string;
  readonly q: LinearSpec;
  readonly k: LinearSpec;
  readonly v: LinearSpec;
  readonly o: LinearSpec;
  readonly gate: LinearSpec;
  readonly up: LinearSpec;
  readonly down: LinearSpec;
}

const embedTokens = 'model.embed_tokens.weight';
const finalNorm = 'model.norm.weight';

export class LlamaArchitecture implements Architecture {
  readonly name = 'llama' as const;
  readonly layout: CheckpointLayout;
  private readonly blocks: LlamaBlock[] = [];
  private readonly rotary = new Map<number, RotaryTables>();

  constructor(readonly config: LlamaConfig) {
    const { hiddenSize: d, intermediateSize: inner, vocabSize, headDim } = config;
    const tensors: TensorSpec[] = [{ name: embedTokens, shape: [vocabSize, d] }];
    const linears: LinearSpec[] = [];
    const linear = (name: string, fanIn: number, units: number, block: string): LinearSpec => {
      tensors.push({ name: `${name}.weight`, shape: [units, fanIn] });
      const spec: LinearSpec = {
        name,
        weight: `${name}.weight`,
        layout: 'transposed',
        fanIn,
        units,
        block,
      };
      linears.push(spec);
      return spec;
    };
    const norm = (name: string): string => {
      tensors.push({ name, shape: [d] });
      return name;
    };
    for (let i = 0; i < config.numLayers; i++) {
      const l = `model.layers.${i}`;
      const inputNorm = norm(`${l}.input_layernorm.weight`);
      const q = linear(`${l}.self_attn.q_proj`, d, config.numHeads * headDim, l);
      const k = linear(`${l}.self_attn.k_proj`, d, config.numKvHeads * headDim, l);
      const v = linear(`${l}.self_attn.v_proj`, d, config.numKvHeads * headDim, l);
      const o = linear(`${l}.self_attn.o_proj`, config.numHeads * headDim, d, l);
      const postNorm = norm(`${l}.post_attention_layernorm.weight`);
      const gate = linear(`${l}.mlp.gate_proj`, d, inner, l);
      const up = linear(`${l}.mlp.up_proj`, d, inner, l);
      const down = linear(`${l}.mlp.down_proj`, inner, d, l);
      this.blocks.push({ inputNorm, postNorm, q, k, v, o, gate, up, down });
    }
    norm(finalNorm);
    const head = lmHeadLayout(config.tieWordEmbeddings, vocabSize, d, embedTokens, tensors);
    this.layout = {
      tensors,
      linears,
      ...head,
      // A buffer older transformers saved; recomputed from rope_theta.
      ignored: /^model\.layers\.\d+\.self_attn\.rotary_emb\.inv_freq$/,
    };
  }

  private tables(seq: number): RotaryTables {
    let t = this.rotary.get(seq);
    if (t === undefined) {
      t = rotaryTables(seq, this.config.headDim, this.config.ropeTheta);
      this.rotary.set(seq, t);
    }
    return t;
  }

  hidden(ctx: ForwardContext, ids: tf.Tensor2D): tf.Tensor2D {
    const c = this.config;
    const { batch, seq } = ctx;
    const eps = c.rmsNormEps;
    const { cos: cosValues, sin: sinValues } = this.tables(seq);
    const cos = tf.tensor2d(cosValues, [seq, c.headDim]);
    const sin = tf.tensor2d(sinValues, [seq, c.headDim]);
    const shape = {
      batch,
      seq,
      heads: c.numHeads,
      kvHeads: c.numKvHeads,
      headDim: c.headDim,
      scale: 1 / Math.sqrt(c.headDim),
    };
    const heads = (x: tf.Tensor2D, n: number): tf.Tensor4D =>
      splitHeads(x, batch, seq, n, c.headDim);
    let h = embed(ctx.param(embedTokens) as tf.Tensor2D, tf.reshape(ids, [-1]));
    for (const b of this.blocks) {
      if (ctx.finished()) break; // the rest of the forward changes no recorded input
      const x = h;
      const y = ctx.block(() => {
        const a = rmsNorm(x, ctx.param(b.inputNorm), eps);
        const q = applyRotary(heads(ctx.linear(b.q, a), c.numHeads), cos, sin);
        const k = applyRotary(heads(ctx.linear(b.k, a), c.numKvHeads), cos, sin);
        const v = heads(ctx.linear(b.v, a), c.numKvHeads);
        const attended = causalAttention(q, k, v, shape, (p) => ctx.dropout(p, c.attentionDropout));
        return tf.add(x, ctx.linear(b.o, attended));
      });
      h = ctx.block(() => {
        const m = rmsNorm(y, ctx.param(b.postNorm), eps);
        return tf.add(
          y,
          ctx.linear(b.down, tf.mul(silu(ctx.linear(b.gate, m)), ctx.linear(b.up, m))),
        );
      });
    }
    return rmsNorm(h, ctx.param(finalNorm), eps);
  }

  head(ctx: ForwardContext, hidden: tf.Tensor2D): tf.Tensor2D {
    const head = this.layout.lmHead;
    return head !== undefined
      ? ctx.linear(head, hidden)
      : matMulTransposedWeight(hidden, ctx.param(embedTokens) as tf.Tensor2D);
  }
}
