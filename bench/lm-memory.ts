// Benchmark (not a test): peak memory of loading AND evaluating a GPT-2-small-shaped checkpoint
// (n_embd 768, 12 layers, 12 heads, 1024 positions, vocabulary 50257: 124M parameters, 498 MB of
// F32 safetensors) with random weights. The parent streams the checkpoint into a temp directory
// (one tensor's values at a time), then a FRESH child process loads it through
// hfCausalLmFamily.load and evaluates perplexity (evaluatePerplexity and CausalLmTask.evaluate) on
// random sequences of 128 tokens, so the writer's memory does not count. RSS is sampled every
// 50 ms in the child (process.memoryUsage) and by the parent from /proc/<child>/status, which also
// sees the synchronous load; the child reports VmHWM at the end. Bar: peak RSS ≤ 1.5 × the
// float32 size of the parameters.
// Run: npm run build && node dist/bench/lm-memory.js [--sequences N] [--batch B]
//      → bench/results/lm-memory.json
import { spawn } from 'node:child_process';
import { promises as fs } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { evaluatePerplexity } from '../src/eval/perplexity.js';
import { initBackend } from '../src/models/backend.js';
import { singleWeightsFile } from '../src/models/hf/checkpoint-dir.js';
import { hfCausalLmFamily } from '../src/models/hf/family.js';
import type { Samples } from '../src/plugin-api/dataset.js';
import { packageRoot } from '../src/util/package-root.js';
import { Rng } from '../src/util/rng.js';
import {
  gpt2SmallConfig as gpt2Small,
  writeGpt2SmallCheckpoint,
} from './helpers/gpt2-small-checkpoint.js';
import { statusBytes, watchRss } from './helpers/proc-memory.js';

const seqLength = 128;
const bar = 1.5;

function arg(name: string, fallback: number): number {
  const i = process.argv.indexOf(name);
  return i >= 0 ? Number(process.argv[i + 1]) : fallback;
}

/** The child: load, evaluate, report. */
async function child(dir: string, sequences: number, batchSize: number): Promise<void> {
  let sampled = 0;
  const sample = (): void => {
    sampled = Math.max(sampled, process.memoryUsage().rss);
  };
  const timer = setInterval(sample, 50);
  await initBackend('wasm');
  sample();
  const baseline = process.memoryUsage().rss;
  const t0 = performance.now();
  const model = await hfCausalLmFamily.load(dir);
  const loadSeconds = (performance.now() - t0) / 1000;
  sample();
  const afterLoad = statusBytes('self', 'VmHWM');
  const rng = new Rng(2);
  const x = Float32Array.from({ length: sequences * seqLength }, () =>
    rng.int(gpt2Small.vocab_size),
  );
  const samples: Samples = {
    count: sequences,
    sampleShape: [seqLength],
    x,
    y: new Int32Array(sequences),
    ids: Int32Array.from({ length: sequences }, (_, i) => i),
  };
  const ppl = evaluatePerplexity(model, samples, { batchSize });
  sample();
  const t1 = performance.now();
  const metrics = model.task.evaluate(model, samples, { batchSize });
  const taskSeconds = (performance.now() - t1) / 1000;
  sample();
  clearInterval(timer);
  model.dispose();
  process.stdout.write(
    JSON.stringify({
      baselineRss: baseline,
      sampledPeakRss: sampled,
      vmHwmAfterLoad: afterLoad,
      vmHwm: statusBytes('self', 'VmHWM'),
      loadSeconds,
      perplexity: {
        value: ppl.perplexity,
        seconds: ppl.seconds,
        tokensPerSecond: ppl.tokensPerSecond,
      },
      taskEvaluate: {
        perplexity: metrics.values.perplexity,
        seconds: taskSeconds,
        tokensPerSecond: (sequences * seqLength) / taskSeconds,
      },
    }) + '\n',
  );
}

async function main(): Promise<void> {
  const sequences = arg('--sequences', 4);
  const batchSize = arg('--batch', 2);
  const dir = await fs.mkdtemp(join(tmpdir(), 'scalpel-lm-memory-'));
  const load0 = loadavg();
  try {
    const t0 = performance.now();
    const params = await writeGpt2SmallCheckpoint(dir);
    const writeSeconds = (performance.now() - t0) / 1000;
    const float32Bytes = params * 4;
    const self = fileURLToPath(import.meta.url);
    const proc = spawn(
      process.execPath,
      [self, '--child', dir, String(sequences), String(batchSize)],
      { stdio: ['ignore', 'pipe', 'inherit'] },
    );
    let out = '';
    proc.stdout.on('data', (d: Buffer) => (out += d.toString('utf8')));
    const watch = watchRss(proc.pid ?? 0);
    const code = await new Promise<number | null>((res) => proc.on('close', res));
    const watched = watch.stop();
    if (code !== 0) throw new Error(`the child process exited with ${code}`);
    const r = JSON.parse(out) as { vmHwm: number; sampledPeakRss: number; loadSeconds: number };
    const peak = Math.max(r.vmHwm, r.sampledPeakRss, watched);
    const report = {
      config: gpt2Small,
      sequences,
      seqLength,
      batchSize,
      params,
      float32Bytes,
      checkpointBytes: (await fs.stat(join(dir, singleWeightsFile))).size,
      writeSeconds,
      child: { ...r, parentSampledPeakRss: watched },
      peakRss: peak,
      peakOverFloat32: peak / float32Bytes,
      bar,
      pass: peak / float32Bytes <= bar,
      loadavg: { before: load0, after: loadavg() },
    };
    const mb = (b: number): string => `${(b / 2 ** 20).toFixed(0)} MiB`;
    console.log(
      `GPT-2 small, ${params.toLocaleString('en')} parameters, float32 ${mb(float32Bytes)}\n` +
        `peak RSS ${mb(peak)} = ${report.peakOverFloat32.toFixed(3)}× float32 (bar ≤ ${bar}: ${report.pass ? 'pass' : 'FAIL'}); ` +
        `load ${r.loadSeconds.toFixed(1)} s; eval ${JSON.stringify(report.child)}`,
    );
    const file = join(packageRoot, 'bench', 'results', 'lm-memory.json');
    await fs.mkdir(join(packageRoot, 'bench', 'results'), { recursive: true });
    await fs.writeFile(file, JSON.stringify(report, null, 2) + '\n');
    console.log(`wrote ${file}`);
  } finally {
    await fs.rm(dir, { recursive: true, force: true });
  }
}

if (process.argv[2] === '--child') {
  await child(process.argv[3] ?? '', Number(process.argv[4]), Number(process.argv[5]));
} else {
  await main();
}
