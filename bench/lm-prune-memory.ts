// Benchmark (not a test): peak memory and wall time of pruning a GPT-2-small-shaped checkpoint
// (124M parameters, random weights, bench/helpers/gpt2-small-checkpoint.ts) end to end with wanda
// and with sparsegpt. Each method is a real recipe — load-model, load-dataset (text), calibrate
// (8 sequences of 128 tokens), prune at density 0.5, evaluate perplexity — run by runRecipe in a
// FRESH child process with its own empty cache, so every stage runs and nothing of the parent's
// (the checkpoint writer) counts. The child reports its kernel peak (ru_maxrss, VmHWM); the parent
// samples the child's VmRSS every 50 ms and attributes the samples to the stage running then
// (windows from the run's events.jsonl). The stages share one process, and wasm's heap never
// shrinks, so a stage's figure includes what earlier stages left resident. Bar (issue 11): peak
// RSS < 2 × the float32 size.
// Run: npm run build && node dist/bench/lm-prune-memory.js [--methods wanda,sparsegpt]
//      → bench/results/lm-prune-memory.json
import { spawn } from 'node:child_process';
import { copyFileSync, promises as fs } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { runRecipe } from '../src/engine/run.js';
import { packageRoot } from '../src/util/package-root.js';
import { gpt2SmallConfig, writeGpt2SmallCheckpoint } from './helpers/gpt2-small-checkpoint.js';
import { statusBytes } from './helpers/proc-memory.js';

const bar = 2;

/**
 * The calibrate stage's `with:` — THE place to change calibration. `common` applies to every
 * method. Only what a user would write: for causal LMs calibrate defaults to `sequential: true`
 * (samples and dense input norms only; prune computes each block's statistics, XᵀX included,
 * from the model as pruned so far) and to no mean gradient.
 */
const calibrate = {
  // batchSize is the memory knob: wasm's heap keeps the high-water mark of one forward's
  // temporaries for the rest of the process — measured on GPT-2 small, 128 tokens: +53 MiB
  // resident for 1 sequence per forward, +92 MiB for 2 (~40 MiB per sequence: MLP-wide
  // activations, transposed weights of the weight-left products, allocator fragmentation).
  // 1 sequence per forward; it changes nothing but float32 rounding.
  common: { samples: 8, batchSize: 1 },
  wanda: {},
  sparsegpt: {},
} as const;
type Method = 'wanda' | 'sparsegpt';

/**
 * The text the calibration sequences come from: the first 40 State of the Union addresses, cut
 * into 128-token sequences by the bundled GPT-2's tokenizer (vocabulary 4096 ⊂ GPT-2's 50257).
 */
const tokenizerDir = join(packageRoot, 'assets', 'gutenberg-gpt2');
const tokenizerFiles = ['tokenizer.json', 'tokenizer_config.json'];

function recipeYaml(method: Method, modelDir: string): string {
  const calib = { ...calibrate.common, ...calibrate[method] };
  const stages = {
    model: { uses: 'load-model', with: { path: modelDir } },
    data: {
      uses: 'load-dataset',
      with: {
        source: 'text',
        corpora: ['sotu'],
        maxDocuments: 40,
        tokenizer: modelDir,
        seqLength: 128,
      },
    },
    calib: { uses: 'calibrate', needs: ['model', 'data'], with: calib },
    prune: { uses: 'prune', needs: ['model', 'calib'], with: { method, density: 0.5 } },
    eval: {
      uses: 'evaluate',
      needs: ['prune', 'data'],
      with: { metrics: ['perplexity'], split: 'test', samples: 8, batchSize: 1 },
    },
  };
  // JSON is YAML: no YAML writer needed.
  return JSON.stringify(
    { version: 1, name: `lm-prune-memory-${method}`, seed: 1, backend: 'wasm', stages },
    null,
    2,
  );
}

async function child(recipe: string, work: string): Promise<void> {
  const t0 = performance.now();
  const summary = await runRecipe(recipe, {
    cacheDir: join(work, 'cache'),
    out: join(work, 'run'),
  });
  const seconds = (performance.now() - t0) / 1000;
  process.stdout.write(
    JSON.stringify({
      status: summary.status,
      seconds,
      // The kernel's peak for the whole process (ru_maxrss is in kB).
      maxRss: process.resourceUsage().maxRSS * 1024,
      vmHwm: statusBytes('self', 'VmHWM'),
      runDir: summary.dir,
      nodes: summary.nodes.map((n) => ({
        id: n.id,
        status: n.status,
        seconds: n.durationMs / 1000,
        ...(n.error !== undefined ? { error: n.error.message } : {}),
        ...(n.id === 'eval' ? { metrics: n.metrics } : {}),
      })),
    }) + '\n',
  );
}

/**
 * Each stage's [start, end] in ms since the epoch, from the run's events.jsonl (timestamps taken
 * when the engine logs "running" and "done", whenever the line is written).
 */
async function stageWindows(runDir: string): Promise<Map<string, [number, number]>> {
  const windows = new Map<string, [number, number]>();
  const text = await fs.readFile(join(runDir, 'events.jsonl'), 'utf8');
  for (const line of text.split('\n')) {
    if (line === '') continue;
    const e = JSON.parse(line) as { stageId?: string; message?: string; timestamp?: string };
    if (e.stageId === undefined || e.timestamp === undefined) continue;
    const t = Date.parse(e.timestamp);
    const w = windows.get(e.stageId) ?? [NaN, NaN];
    if (e.message?.startsWith('running (') === true) w[0] = t;
    if (e.message?.startsWith('done in ') === true) w[1] = t;
    windows.set(e.stageId, w);
  }
  return windows;
}

interface ChildReport {
  status: string;
  seconds: number;
  maxRss: number;
  vmHwm: number;
  runDir: string;
  nodes: unknown[];
}

async function runMethod(method: Method, root: string, modelDir: string, float32Bytes: number) {
  const work = join(root, method);
  await fs.mkdir(work, { recursive: true });
  const recipe = join(work, 'recipe.yaml');
  await fs.writeFile(recipe, recipeYaml(method, modelDir));
  const t0 = performance.now();
  const proc = spawn(process.execPath, [fileURLToPath(import.meta.url), '--child', recipe, work], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  let out = '';
  proc.stdout.on('data', (d: Buffer) => (out += d.toString('utf8')));
  const samples: [number, number][] = [];
  const pid = proc.pid ?? 0;
  const timer = setInterval(() => samples.push([Date.now(), statusBytes(pid, 'VmRSS')]), 50);
  const code = await new Promise<number | null>((res) => proc.on('close', res));
  clearInterval(timer);
  const wallSeconds = (performance.now() - t0) / 1000;
  if (code !== 0 && out === '') throw new Error(`the ${method} child exited with ${code}`);
  const r = JSON.parse(out) as ChildReport;
  const parentSampledPeakRss = Math.max(0, ...samples.map(([, b]) => b));
  const stagePeakRss: Record<string, number> = {};
  for (const [stage, [start, end]] of await stageWindows(r.runDir)) {
    const inside = samples.filter(([t]) => t >= start && t <= end).map(([, b]) => b);
    stagePeakRss[stage] = Math.max(0, ...inside);
  }
  const peak = Math.max(r.maxRss, r.vmHwm, parentSampledPeakRss);
  return {
    method,
    calibrate: { ...calibrate.common, ...calibrate[method] },
    wallSeconds,
    ...r,
    parentSampledPeakRss,
    stagePeakRss,
    peakRss: peak,
    peakOverFloat32: peak / float32Bytes,
    pass: r.status === 'ok' && peak / float32Bytes < bar,
  };
}

async function main(): Promise<void> {
  const i = process.argv.indexOf('--methods');
  const methods = (i >= 0 ? (process.argv[i + 1] ?? '') : 'wanda,sparsegpt').split(',') as Method[];
  const root = await fs.mkdtemp(join(tmpdir(), 'scalpel-lm-prune-memory-'));
  const load0 = loadavg();
  try {
    const modelDir = join(root, 'model');
    await fs.mkdir(modelDir);
    const params = await writeGpt2SmallCheckpoint(modelDir);
    for (const f of tokenizerFiles) copyFileSync(join(tokenizerDir, f), join(modelDir, f));
    const float32Bytes = params * 4;
    const results = [];
    for (const method of methods) {
      const r = await runMethod(method, root, modelDir, float32Bytes);
      const mb = (b: number): string => `${(b / 2 ** 20).toFixed(0)} MiB`;
      console.log(
        `${method}: ${r.status}, ${r.wallSeconds.toFixed(0)} s, peak RSS ${mb(r.peakRss)} = ` +
          `${r.peakOverFloat32.toFixed(2)}× float32 (bar < ${bar}: ${r.pass ? 'pass' : 'FAIL'}); by stage: ` +
          Object.entries(r.stagePeakRss)
            .map(([s, b]) => `${s} ${mb(b)}`)
            .join(', '),
      );
      results.push(r);
    }
    const report = {
      config: gpt2SmallConfig,
      params,
      float32Bytes,
      bar,
      results,
      loadavg: { before: load0, after: loadavg() },
    };
    const file = join(packageRoot, 'bench', 'results', 'lm-prune-memory.json');
    await fs.mkdir(join(packageRoot, 'bench', 'results'), { recursive: true });
    await fs.writeFile(file, JSON.stringify(report, null, 2) + '\n');
    console.log(`wrote ${file}`);
  } finally {
    await fs.rm(root, { recursive: true, force: true });
  }
}

if (process.argv[2] === '--child') {
  await child(process.argv[3] ?? '', process.argv[4] ?? '');
} else {
  await main();
}
