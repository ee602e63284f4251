// Benchmark (not a test): forward and forward+backward tokens/s of the bundled LMs
// (assets/gutenberg-llama, assets/gutenberg-gpt2; when a directory is missing, e.g. while they
// are still being trained, the same architecture from its config with random weights) on wasm,
// batch 16 × seq 128, against the bare tf.matMul GFLOP/s of exactly the model's products.
// FLOPs per token (forward): 2·fanIn·units per linear, 2·2·seq·d per layer for attention (QKᵀ and
// P·V over the full square, as computed), 2·d·vocab for lm_head; backward counted as 2× forward.
// Bar: the model's forward GFLOP/s within 2× of the bare matMuls (bare / model ≤ 2).
// Run: npm run build && node dist/bench/lm-throughput.js [--quick]
//      → bench/results/lm-throughput.json
import { existsSync, promises as fs } from 'node:fs';
import { loadavg } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { initBackend } from '../src/models/backend.js';
import { HfCausalLmModel } from '../src/models/hf/causal-lm-model.js';
import { hfCausalLmFamily } from '../src/models/hf/family.js';
import { parseHfConfig, type HfCausalLmConfig } from '../src/models/hf/hf-config.js';
import { initialWeights } from '../src/models/hf/init-weights.js';
import { median } from '../src/models/metrics.js';
import { packageRoot } from '../src/util/package-root.js';
import { Rng } from '../src/util/rng.js';

const [batch, seq] = [16, 128];
const bar = 2;

const configs: Record<string, Record<string, unknown>> = {
  'gutenberg-llama': {
    model_type: 'llama',
    vocab_size: 4096,
    hidden_size: 256,
    intermediate_size: 688,
    num_hidden_layers: 4,
    num_attention_heads: 8,
    num_key_value_heads: 4,
    max_position_embeddings: 128,
    rms_norm_eps: 1e-5,
    tie_word_embeddings: false,
  },
  'gutenberg-gpt2': {
    model_type: 'gpt2',
    vocab_size: 4096,
    n_embd: 256,
    n_layer: 4,
    n_head: 8,
    n_inner: 1024,
    n_positions: 128,
    layer_norm_epsilon: 1e-5,
    tie_word_embeddings: true,
    embd_pdrop: 0,
    attn_pdrop: 0,
    resid_pdrop: 0,
  },
};

async function timeIt(fn: () => Promise<void>, runs: number, warmup: number): Promise<number> {
  for (let i = 0; i < warmup; i++) await fn();
  const t: number[] = [];
  for (let i = 0; i < runs; i++) {
    const t0 = performance.now();
    await fn();
    t.push((performance.now() - t0) / 1000);
  }
  return median(t);
}

/** [m, k, n] of every product of one forward over `rows` = batch·seq tokens (attention batched). */
function products(
  model: HfCausalLmModel,
  config: HfCausalLmConfig,
): [number, number, number, number][] {
  const rows = batch * seq;
  const out: [number, number, number, number][] = model.operators.map((o) => [
    1,
    rows,
    o.fanIn,
    o.units,
  ]);
  const d = config.numHeads * config.headDim;
  for (let l = 0; l < config.numLayers; l++) {
    // [batch·heads] × ([seq, headDim]·[headDim, seq]) and ([seq, seq]·[seq, headDim])
    out.push([batch * config.numHeads, seq, config.headDim, seq]);
    out.push([batch * config.numHeads, seq, seq, config.headDim]);
  }
  if (!model.operators.some((o) => o.name === 'lm_head')) out.push([1, rows, d, config.vocabSize]);
  return out;
}

async function benchModel(name: string, quick: boolean): Promise<Record<string, unknown>> {
  const dir = join(packageRoot, 'assets', name);
  const bundled = existsSync(join(dir, 'config.json'));
  const config = parseHfConfig(configs[name] ?? {});
  const model = bundled
    ? ((await hfCausalLmFamily.load(dir, {
        includeLmHead: name.includes('llama'),
      })) as HfCausalLmModel)
    : new HfCausalLmModel(config, initialWeights(config, new Rng(1)), {
        includeLmHead: !config.tieWordEmbeddings,
      });
  const cfg = model.config;
  const runs = quick ? 2 : 5;
  const rng = new Rng(2);
  const ids = tf.tensor2d(
    Int32Array.from({ length: batch * seq }, () => rng.int(cfg.vocabSize)),
    [batch, seq],
    'int32',
  );
  const flopsPerToken =
    products(model, cfg).reduce((s, [b, m, k, n]) => s + 2 * b * m * k * n, 0) / (batch * seq);
  const fwd = await timeIt(
    async () => {
      const out = tf.tidy(() => model.forward(ids).output);
      await out.data();
      out.dispose();
    },
    runs,
    1,
  );
  const batchOf = model.task.batch({
    count: batch,
    sampleShape: [seq],
    x: Float32Array.from(ids.dataSync()),
    y: new Int32Array(batch),
    ids: new Int32Array(batch),
  });
  const vars = model.trainableVariables();
  const fwdBwd = await timeIt(
    async () => {
      const { value, grads } = tf.variableGrads(
        () => tf.mean(model.task.perSampleLoss(model.forward(batchOf.inputs).output, batchOf)),
        vars,
      );
      await Promise.all(Object.values(grads).map((g) => g.data()));
      tf.dispose([value, ...Object.values(grads)]);
    },
    runs,
    1,
  );
  // The same products, bare.
  const operands = products(model, cfg).map(([b, m, k, n]) => [
    tf.randomNormal(b === 1 ? [m, k] : [b, m, k]),
    tf.randomNormal(b === 1 ? [k, n] : [b, k, n]),
  ]);
  const bare = await timeIt(
    async () => {
      const outs = operands.map(([a, b]) => tf.matMul(a as tf.Tensor, b as tf.Tensor));
      await Promise.all(outs.map((o) => o.data()));
      tf.dispose(outs);
    },
    runs,
    1,
  );
  tf.dispose([ids, batchOf.inputs, batchOf.targets, ...operands.flat()]);
  model.dispose();
  const tokens = batch * seq;
  const gflops = (flops: number, s: number): number => flops / s / 1e9;
  const modelGflops = gflops(flopsPerToken * tokens, fwd);
  const bareGflops = gflops(flopsPerToken * tokens, bare);
  return {
    model: name,
    weights: bundled ? dir : 'random (initialWeights), assets directory missing',
    flopsPerToken,
    forward: { tokensPerSecond: tokens / fwd, gflops: modelGflops, seconds: fwd },
    forwardBackward: {
      tokensPerSecond: tokens / fwdBwd,
      gflops: gflops(3 * flopsPerToken * tokens, fwdBwd),
      seconds: fwdBwd,
    },
    bareMatMul: { gflops: bareGflops, seconds: bare },
    bareOverModel: bareGflops / modelGflops,
    pass: bareGflops / modelGflops <= bar,
  };
}

async function main(): Promise<void> {
  const quick = process.argv.includes('--quick');
  await initBackend('wasm'); // installs the transposed-matMul fix, as every stage gets it
  const load0 = loadavg();
  const results: Record<string, unknown>[] = [];
  for (const name of Object.keys(configs)) {
    const r = await benchModel(name, quick);
    console.log(JSON.stringify(r));
    results.push(r);
  }
  const report = {
    batch,
    seq,
    backend: 'wasm',
    bar,
    results,
    loadavg: { before: load0, after: loadavg() },
  };
  const file = join(packageRoot, 'bench', 'results', 'lm-throughput.json');
  await fs.mkdir(join(packageRoot, 'bench', 'results'), { recursive: true });
  await fs.writeFile(file, JSON.stringify(report, null, 2) + '\n');
  console.log(`wrote ${file}`);
}

await main();
