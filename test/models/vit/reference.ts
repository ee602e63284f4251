// An independent float64 forward of ViT / DeiT image classifiers, written from the formulas of
// the papers and transformers' modeling_vit.py / modeling_deit.py (not from scalpel's code): images
// [H, W, C] cut into P×P patches flattened as [C, P, P] (the Conv2d weight's order), a class token
// (and DeiT's distillation token) before the patches, learned positions, pre-LayerNorm blocks of
// softmax self-attention and an exact-gelu MLP, a final LayerNorm, the head on token 0 (with
// teacher: the mean of the heads on tokens 0 and 1). It also returns every operator's input X.

export interface RefVitConfig {
  readonly deit: boolean;
  readonly teacher: boolean;
  readonly image: number;
  readonly patch: number;
  readonly channels: number;
  readonly hidden: number;
  readonly layers: number;
  readonly heads: number;
  readonly inner: number;
  readonly labels: number;
  readonly eps: number;
  readonly qkvBias: boolean;
}

type Weights = ReadonlyMap<string, Float32Array>;
type Rows = number[][];

export interface RefVitResult {
  /** [batch · labels], row-major. */
  readonly logits: Float64Array;
  /** Each operator's X [rows, fanIn], row-major. */
  readonly inputs: Map<string, Float64Array>;
}

/** erf to ~1e-10: its Maclaurin series below 3, the asymptotic series of erfc above. */
export function erf(x: number): number {
  const a = Math.abs(x);
  let r: number;
  if (a < 3) {
    let term = a;
    let sum = a;
    for (let n = 1; n < 80; n++) {
      term *= (-a * a) / n;
      sum += term / (2 * n + 1);
    }
    r = (2 / Math.sqrt(Math.PI)) * sum;
  } else {
    let s = 1;
    let t = 1;
    for (let n = 1; n < 6; n++) {
      t *= -(2 * n - 1) / (2 * a * a);
      s += t;
    }
    r = 1 - (Math.exp(-a * a) / (a * Math.sqrt(Math.PI))) * s;
  }
  return x < 0 ? -r : r;
}

const gelu = (x: number): number => 0.5 * x * (1 + erf(x / Math.SQRT2));

function get(w: Weights, name: string): Float32Array {
  const t = w.get(name);
  if (t === undefined) throw new Error(`reference: no tensor ${name}`);
  return t;
}

/** y = W x + b for every row x, with W an nn.Linear weight [out, in]. */
function linear(w: Weights, name: string, x: Rows, out: number, bias = true): Rows {
  const W = get(w, `${name}.weight`);
  const b = bias ? get(w, `${name}.bias`) : undefined;
  return x.map((row) => {
    const y: number[] = [];
    for (let o = 0; o < out; o++) {
      let s = b?.[o] ?? 0;
      for (let i = 0; i < row.length; i++) s += (W[o * row.length + i] as number) * row[i]!;
      y.push(s);
    }
    return y;
  });
}

function layerNorm(w: Weights, name: string, x: Rows, eps: number): Rows {
  const g = get(w, `${name}.weight`);
  const b = get(w, `${name}.bias`);
  return x.map((row) => {
    const mean = row.reduce((a, v) => a + v, 0) / row.length;
    const variance = row.reduce((a, v) => a + (v - mean) ** 2, 0) / row.length;
    return row.map((v, i) => ((v - mean) / Math.sqrt(variance + eps)) * g[i]! + b[i]!);
  });
}

function flat(rows: Rows): Float64Array {
  return Float64Array.from(rows.flat());
}

/** `images`: per image its H·W·C values in (y, x, c) order. */
export function refVit(c: RefVitConfig, w: Weights, images: readonly Float32Array[]): RefVitResult {
  const p = c.deit ? 'deit.' : 'vit.';
  const { image: S, patch: P, channels: C, hidden: D } = c;
  const grid = S / P;
  const headDim = D / c.heads;
  const inputs = new Map<string, Rows>();
  const record = (name: string, x: Rows): void => {
    inputs.set(name, [...(inputs.get(name) ?? []), ...x]);
  };
  const logits: number[] = [];
  for (const img of images) {
    // Patches in row-major grid order, each flattened as [c][py][px].
    const patches: Rows = [];
    for (let gy = 0; gy < grid; gy++)
      for (let gx = 0; gx < grid; gx++) {
        const v: number[] = [];
        for (let ch = 0; ch < C; ch++)
          for (let py = 0; py < P; py++)
            for (let px = 0; px < P; px++) v.push(img[((gy * P + py) * S + gx * P + px) * C + ch]!);
        patches.push(v);
      }
    const proj = `${p}embeddings.patch_embeddings.projection`;
    record(proj, patches);
    const embedded = linear(w, proj, patches, D);
    const special = [Array.from(get(w, `${p}embeddings.cls_token`))];
    if (c.deit) special.push(Array.from(get(w, `${p}embeddings.distillation_token`)));
    const pos = get(w, `${p}embeddings.position_embeddings`);
    let h: Rows = [...special, ...embedded].map((row, t) => row.map((v, j) => v + pos[t * D + j]!));
    const T = h.length;
    for (let l = 0; l < c.layers; l++) {
      const L = `${p}encoder.layer.${l}`;
      const n1 = layerNorm(w, `${L}.layernorm_before`, h, c.eps);
      for (const m of ['query', 'key', 'value']) record(`${L}.attention.attention.${m}`, n1);
      const q = linear(w, `${L}.attention.attention.query`, n1, D, c.qkvBias);
      const k = linear(w, `${L}.attention.attention.key`, n1, D, c.qkvBias);
      const v = linear(w, `${L}.attention.attention.value`, n1, D, c.qkvBias);
      const ctx: Rows = Array.from({ length: T }, () => new Array<number>(D).fill(0));
      for (let hd = 0; hd < c.heads; hd++) {
        const o = hd * headDim;
        for (let t = 0; t < T; t++) {
          const scores: number[] = [];
          for (let s = 0; s < T; s++) {
            let dot = 0;
            for (let j = 0; j < headDim; j++) dot += q[t]![o + j]! * k[s]![o + j]!;
            scores.push(dot / Math.sqrt(headDim));
          }
          const max = Math.max(...scores);
          const e = scores.map((x) => Math.exp(x - max));
          const z = e.reduce((a, b) => a + b, 0);
          for (let s = 0; s < T; s++)
            for (let j = 0; j < headDim; j++) ctx[t]![o + j]! += (e[s]! / z) * v[s]![o + j]!;
        }
      }
      record(`${L}.attention.output.dense`, ctx);
      const attn = linear(w, `${L}.attention.output.dense`, ctx, D);
      h = h.map((row, t) => row.map((x, j) => x + attn[t]![j]!));
      const n2 = layerNorm(w, `${L}.layernorm_after`, h, c.eps);
      record(`${L}.intermediate.dense`, n2);
      const act = linear(w, `${L}.intermediate.dense`, n2, c.inner).map((r) => r.map(gelu));
      record(`${L}.output.dense`, act);
      const mlp = linear(w, `${L}.output.dense`, act, D);
      h = h.map((row, t) => row.map((x, j) => x + mlp[t]![j]!));
    }
    const out = layerNorm(w, `${p}layernorm`, h, c.eps);
    if (c.teacher) {
      record('cls_classifier', [out[0]!]);
      record('distillation_classifier', [out[1]!]);
      const a = linear(w, 'cls_classifier', [out[0]!], c.labels)[0]!;
      const b = linear(w, 'distillation_classifier', [out[1]!], c.labels)[0]!;
      logits.push(...a.map((x, i) => (x + b[i]!) / 2));
    } else {
      record('classifier', [out[0]!]);
      logits.push(...linear(w, 'classifier', [out[0]!], c.labels)[0]!);
    }
  }
  return {
    logits: Float64Array.from(logits),
    inputs: new Map([...inputs].map(([n, rows]) => [n, flat(rows)])),
  };
}
