// Independent float64 forwards of GPT-2 and Llama written from the formulas with plain loops
// (nothing from src/): the numbers the tfjs forwards are checked against. Hidden states are
// [rows, width] with row = b·seq + t, the rows of every operator's X.
import type { RawConfig } from './checkpoints.js';

export interface RefHooks {
  /** Added to an operator's output [rows, units]. */
  readonly delta?: ReadonlyMap<string, Float64Array>;
  /** An operator's weight replaced, given in the [fanIn, units] view. */
  readonly weights?: ReadonlyMap<string, ArrayLike<number>>;
}

export interface RefResult {
  /** [batch, seq, vocab] */
  readonly logits: Float64Array;
  /** Every operator's input X [rows, fanIn]. */
  readonly inputs: Map<string, Float64Array>;
}

type Weights = ReadonlyMap<string, Float32Array>;

function get(w: Weights, name: string): Float32Array {
  const t = w.get(name);
  if (t === undefined) throw new Error(`reference: no tensor ${name}`);
  return t;
}

class Ref {
  readonly inputs = new Map<string, Float64Array>();
  constructor(
    readonly w: Weights,
    readonly hooks: RefHooks,
    readonly rows: number,
  ) {}

  /** y = x·W (+ b) (+ δ); `transposed`: W stored [units, fanIn] (nn.Linear), else [fanIn, units]. */
  linear(
    op: string,
    x: Float64Array,
    fanIn: number,
    units: number,
    transposed: boolean,
    bias: boolean,
  ): Float64Array {
    this.inputs.set(op, x);
    const stored = get(this.w, `${op}.weight`);
    const replaced = this.hooks.weights?.get(op);
    const at = (i: number, o: number): number =>
      replaced !== undefined
        ? (replaced[i * units + o] as number)
        : (stored[transposed ? o * fanIn + i : i * units + o] as number);
    const b = bias ? get(this.w, `${op}.bias`) : undefined;
    const delta = this.hooks.delta?.get(op);
    const y = new Float64Array(this.rows * units);
    for (let r = 0; r < this.rows; r++) {
      for (let o = 0; o < units; o++) {
        let s = b !== undefined ? (b[o] as number) : 0;
        for (let i = 0; i < fanIn; i++) s += (x[r * fanIn + i] as number) * at(i, o);
        y[r * units + o] = s + (delta !== undefined ? (delta[r * units + o] as number) : 0);
      }
    }
    return y;
  }
}

function addInto(a: Float64Array, b: Float64Array): void {
  for (let i = 0; i < a.length; i++) a[i] = (a[i] as number) + (b[i] as number);
}

function layerNorm(
  x: Float64Array,
  d: number,
  w: Float32Array,
  b: Float32Array,
  eps: number,
): Float64Array {
  const y = new Float64Array(x.length);
  for (let r = 0; r < x.length / d; r++) {
    let mean = 0;
    for (let i = 0; i < d; i++) mean += x[r * d + i] as number;
    mean /= d;
    let v = 0;
    for (let i = 0; i < d; i++) v += ((x[r * d + i] as number) - mean) ** 2;
    const inv = 1 / Math.sqrt(v / d + eps);
    for (let i = 0; i < d; i++)
      y[r * d + i] = ((x[r * d + i] as number) - mean) * inv * (w[i] as number) + (b[i] as number);
  }
  return y;
}

function rmsNorm(x: Float64Array, d: number, w: Float32Array, eps: number): Float64Array {
  const y = new Float64Array(x.length);
  for (let r = 0; r < x.length / d; r++) {
    let ms = 0;
    for (let i = 0; i < d; i++) ms += (x[r * d + i] as number) ** 2;
    const inv = 1 / Math.sqrt(ms / d + eps);
    for (let i = 0; i < d; i++) y[r * d + i] = (x[r * d + i] as number) * inv * (w[i] as number);
  }
  return y;
}

/**
 * Causal attention per (b, head): q at qOff + h·hd of rows of width qW, k/v of kv head
 * ⌊h / (heads/kvHeads)⌋ at kOff/vOff. Returns [rows, heads·hd].
 */
function attention(
  q: Float64Array,
  qW: number,
  qOff: number,
  k: Float64Array,
  kW: number,
  kOff: number,
  v: Float64Array,
  vW: number,
  vOff: number,
  shape: { batch: number; seq: number; heads: number; kvHeads: number; hd: number },
): Float64Array {
  const { batch, seq, heads, kvHeads, hd } = shape;
  const out = new Float64Array(batch * seq * heads * hd);
  for (let b = 0; b < batch; b++) {
    for (let h = 0; h < heads; h++) {
      const g = Math.floor(h / (heads / kvHeads));
      for (let t = 0; t < seq; t++) {
        const scores: number[] = [];
        for (let s = 0; s <= t; s++) {
          let dot = 0;
          for (let j = 0; j < hd; j++) {
            dot +=
              (q[(b * seq + t) * qW + qOff + h * hd + j] as number) *
              (k[(b * seq + s) * kW + kOff + g * hd + j] as number);
          }
          scores.push(dot / Math.sqrt(hd));
        }
        const max = Math.max(...scores);
        const e = scores.map((z) => Math.exp(z - max));
        const sum = e.reduce((a, c) => a + c, 0);
        for (let j = 0; j < hd; j++) {
          let acc = 0;
          for (let s = 0; s <= t; s++)
            acc += ((e[s] as number) / sum) * (v[(b * seq + s) * vW + vOff + g * hd + j] as number);
          out[(b * seq + t) * heads * hd + h * hd + j] = acc;
        }
      }
    }
  }
  return out;
}

/** logits[row, v] = Σ x[row, i]·table[v, i]. */
function logitsOf(x: Float64Array, d: number, table: Float32Array, vocab: number): Float64Array {
  const rows = x.length / d;
  const out = new Float64Array(rows * vocab);
  for (let r = 0; r < rows; r++) {
    for (let v = 0; v < vocab; v++) {
      let s = 0;
      for (let i = 0; i < d; i++) s += (x[r * d + i] as number) * (table[v * d + i] as number);
      out[r * vocab + v] = s;
    }
  }
  return out;
}

const num = (c: RawConfig, k: string): number => c[k] as number;

/** GPT-2 (tied head unless the config unties it); `prefix` as the checkpoint stores names. */
export function refGpt2(
  c: RawConfig,
  w: Weights,
  ids: number[][],
  hooks: RefHooks = {},
  prefix = '',
): RefResult {
  const [d, heads, vocab, layers] = [
    num(c, 'n_embd'),
    num(c, 'n_head'),
    num(c, 'vocab_size'),
    num(c, 'n_layer'),
  ];
  const inner = 4 * d;
  const eps = num(c, 'layer_norm_epsilon');
  const batch = ids.length;
  const seq = ids[0]?.length ?? 0;
  const ref = new Ref(w, hooks, batch * seq);
  const wte = get(w, `${prefix}wte.weight`);
  const wpe = get(w, `${prefix}wpe.weight`);
  let x = new Float64Array(batch * seq * d);
  for (let b = 0; b < batch; b++) {
    for (let t = 0; t < seq; t++) {
      const id = ids[b]?.[t] as number;
      for (let i = 0; i < d; i++)
        x[(b * seq + t) * d + i] = (wte[id * d + i] as number) + (wpe[t * d + i] as number);
    }
  }
  const gelu = (z: number): number =>
    0.5 * z * (1 + Math.tanh(Math.sqrt(2 / Math.PI) * (z + 0.044715 * z ** 3)));
  const shape = { batch, seq, heads, kvHeads: heads, hd: d / heads };
  for (let l = 0; l < layers; l++) {
    const h = `${prefix}h.${l}`;
    const a = layerNorm(x, d, get(w, `${h}.ln_1.weight`), get(w, `${h}.ln_1.bias`), eps);
    const qkv = ref.linear(`${h}.attn.c_attn`, a, d, 3 * d, false, true);
    const att = attention(qkv, 3 * d, 0, qkv, 3 * d, d, qkv, 3 * d, 2 * d, shape);
    x = Float64Array.from(x);
    addInto(x, ref.linear(`${h}.attn.c_proj`, att, d, d, false, true));
    const m = layerNorm(x, d, get(w, `${h}.ln_2.weight`), get(w, `${h}.ln_2.bias`), eps);
    const f = ref.linear(`${h}.mlp.c_fc`, m, d, inner, false, true).map(gelu);
    addInto(x, ref.linear(`${h}.mlp.c_proj`, f, inner, d, false, true));
  }
  const final = layerNorm(x, d, get(w, `${prefix}ln_f.weight`), get(w, `${prefix}ln_f.bias`), eps);
  if (c.tie_word_embeddings === false) {
    return { logits: ref.linear('lm_head', final, d, vocab, true, false), inputs: ref.inputs };
  }
  return { logits: logitsOf(final, d, wte, vocab), inputs: ref.inputs };
}

/** Llama: RoPE (rotate-half), GQA, SwiGLU; tied when the config says so. */
export function refLlama(
  c: RawConfig,
  w: Weights,
  ids: number[][],
  hooks: RefHooks = {},
): RefResult {
  const [d, heads, vocab, layers, inner] = [
    'hidden_size',
    'num_attention_heads',
    'vocab_size',
    'num_hidden_layers',
    'intermediate_size',
  ].map((k) => num(c, k)) as [number, number, number, number, number];
  const kvHeads = num(c, 'num_key_value_heads');
  const hd = d / heads;
  const eps = num(c, 'rms_norm_eps');
  const theta = num(c, 'rope_theta');
  const batch = ids.length;
  const seq = ids[0]?.length ?? 0;
  const ref = new Ref(w, hooks, batch * seq);
  const embed = get(w, 'model.embed_tokens.weight');
  let x = new Float64Array(batch * seq * d);
  for (let b = 0; b < batch; b++) {
    for (let t = 0; t < seq; t++) {
      for (let i = 0; i < d; i++)
        x[(b * seq + t) * d + i] = embed[(ids[b]?.[t] as number) * d + i] as number;
    }
  }
  // Rotate-half RoPE in place on rows of `n` heads: pairs (j, j + hd/2) rotate by t·θ^(−2j/hd).
  const rope = (y: Float64Array, n: number): void => {
    const half = hd / 2;
    for (let r = 0; r < batch * seq; r++) {
      const t = r % seq;
      for (let h = 0; h < n; h++) {
        for (let j = 0; j < half; j++) {
          const angle = t * Math.pow(theta, (-2 * j) / hd);
          const at = r * n * hd + h * hd + j;
          const [x1, x2] = [y[at] as number, y[at + half] as number];
          y[at] = x1 * Math.cos(angle) - x2 * Math.sin(angle);
          y[at + half] = x2 * Math.cos(angle) + x1 * Math.sin(angle);
        }
      }
    }
  };
  const shape = { batch, seq, heads, kvHeads, hd };
  for (let l = 0; l < layers; l++) {
    const p = `model.layers.${l}`;
    const a = rmsNorm(x, d, get(w, `${p}.input_layernorm.weight`), eps);
    const q = Float64Array.from(ref.linear(`${p}.self_attn.q_proj`, a, d, heads * hd, true, false));
    const k = Float64Array.from(
      ref.linear(`${p}.self_attn.k_proj`, a, d, kvHeads * hd, true, false),
    );
    const v = ref.linear(`${p}.self_attn.v_proj`, a, d, kvHeads * hd, true, false);
    rope(q, heads);
    rope(k, kvHeads);
    const att = attention(q, heads * hd, 0, k, kvHeads * hd, 0, v, kvHeads * hd, 0, shape);
    x = Float64Array.from(x);
    addInto(x, ref.linear(`${p}.self_attn.o_proj`, att, heads * hd, d, true, false));
    const m = rmsNorm(x, d, get(w, `${p}.post_attention_layernorm.weight`), eps);
    const gate = ref.linear(`${p}.mlp.gate_proj`, m, d, inner, true, false);
    const up = ref.linear(`${p}.mlp.up_proj`, m, d, inner, true, false);
    const act = gate.map((g, i) => (g / (1 + Math.exp(-g))) * (up[i] as number));
    addInto(x, ref.linear(`${p}.mlp.down_proj`, act, inner, d, true, false));
  }
  const final = rmsNorm(x, d, get(w, 'model.norm.weight'), eps);
  if (c.tie_word_embeddings === true)
    return { logits: logitsOf(final, d, embed, vocab), inputs: ref.inputs };
  // The untied head as an operator too (includeLmHead): logits = final·lm_headᵀ (+ δ).
  return { logits: ref.linear('lm_head', final, d, vocab, true, false), inputs: ref.inputs };
}

/** Σ over sequences of the mean next-token NLL (log-softmax of logits at t against id t+1). */
export function refLoss(logits: Float64Array, ids: number[][], vocab: number): number {
  let total = 0;
  const seq = ids[0]?.length ?? 0;
  ids.forEach((row, b) => {
    let nll = 0;
    for (let t = 0; t + 1 < seq; t++) {
      const z = Array.from(logits.subarray((b * seq + t) * vocab, (b * seq + t + 1) * vocab));
      const max = Math.max(...z);
      const lse = max + Math.log(z.reduce((a, v) => a + Math.exp(v - max), 0));
      nll += lse - (z[row[t + 1] as number] as number);
    }
    total += nll / (seq - 1);
  });
  return total;
}

/** Index of the largest of `n` values at `offset`. */
export function argmax(values: ArrayLike<number>, offset: number, n: number): number {
  let best = 0;
  for (let i = 1; i < n; i++)
    if ((values[offset + i] as number) > (values[offset + best] as number)) best = i;
  return best;
}
