// Benchmark (not a test): the host work of one iCBS step that grows with the LAYER's size, not
// with tokens — the gradient selection scores |w0 ⊙ ḡ|, block selection (tabu release scan,
// candidate lists, two quickselects), applying the block, and the transposed copy writeWeight
// makes for an nn.Linear weight — on synthetic layers of Llama-2-7B's shapes (4096 × 4096 and
// 4096 × 11008), density 0.5, tabu 0.4, block 4096 (k 2048). For the 7B planning table in
// docs/icbs.md. Needs ~1.5 GB of memory.
//
// Run: npm run build && node dist/bench/icbs-layer-host.js [repeats]
//      → bench/results/icbs-layer-host.json
import { mkdirSync, renameSync, writeFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { join } from 'node:path';
import { selectBlock } from '../src/icbs/block-selection.js';
import { LayerState } from '../src/icbs/layer-state.js';
import { TabuList } from '../src/icbs/tabu.js';
import { median } from '../src/models/metrics.js';
import { packageRoot } from '../src/util/package-root.js';
import { Rng } from '../src/util/rng.js';

const [blockSize, k] = [4096, 2048];

function measure(fanIn: number, units: number, repeats: number): Record<string, number> {
  const size = fanIn * units;
  const rng = new Rng(1);
  const w0 = Float32Array.from({ length: size }, () => rng.normal());
  const keep = Uint8Array.from({ length: size }, () => (rng.float() < 0.5 ? 1 : 0));
  const info = {
    name: `synthetic ${fanIn}x${units}`,
    kind: 'dense' as const,
    kernelShape: [fanIn, units],
    fanIn,
    units,
    paramCount: size,
  };
  const state = new LayerState({ info, weights: w0, density: 0.5 }, keep, w0);
  state.tabu = new TabuList(Math.floor(0.4 * size), size);
  const meanGradient = Float32Array.from({ length: size }, () => rng.normal());
  const times = { scores: [] as number[], select: [] as number[], apply: [] as number[] };
  const transposeMs: number[] = [];
  for (let r = 0; r < repeats; r++) {
    let t = performance.now();
    const scores = new Float32Array(size);
    for (let j = 0; j < size; j++)
      scores[j] = Math.abs((state.w0[j] as number) * (meanGradient[j] as number));
    times.scores.push(performance.now() - t);
    t = performance.now();
    const block = selectBlock(state, scores, blockSize, k, rng);
    times.select.push(performance.now() - t);
    t = performance.now();
    // Swap one pruned with one kept weight, as a changed step does.
    const x = new Uint8Array(block.indices.length);
    x.fill(1, 1, block.k + 1);
    state.applyBlock(block.indices, x);
    state.tabu.push(block.indices);
    times.apply.push(performance.now() - t);
    t = performance.now();
    const stored = new Float32Array(size);
    for (let i = 0; i < fanIn; i++)
      for (let o = 0; o < units; o++)
        stored[o * fanIn + i] = state.weights[i * units + o] as number;
    transposeMs.push(performance.now() - t);
  }
  const out = {
    weights: size,
    scoresMs: median(times.scores),
    selectMs: median(times.select),
    applyMs: median(times.apply),
    writeWeightTransposeMs: median(transposeMs),
  };
  return {
    ...out,
    totalMs: out.scoresMs + out.selectMs + out.applyMs + out.writeWeightTransposeMs,
  };
}

function main(): void {
  const repeats = Number(process.argv[2] ?? 4);
  const load0 = loadavg();
  const layers = {
    'attention 4096x4096': measure(4096, 4096, repeats),
    'mlp 4096x11008': measure(4096, 11008, repeats),
  };
  const result = {
    benchmark: 'icbs-layer-host',
    date: new Date().toISOString(),
    machine: {
      cpus: cpus().length,
      model: cpus()[0]?.model ?? '',
      loadavg: { before: load0, after: loadavg() },
    },
    settings: { density: 0.5, tabuFraction: 0.4, blockSize, k, repeats },
    layers,
  };
  const dir = join(packageRoot, 'bench', 'results');
  mkdirSync(dir, { recursive: true });
  const file = join(dir, 'icbs-layer-host.json');
  writeFileSync(`${file}.tmp`, JSON.stringify(result, null, 2) + '\n');
  renameSync(`${file}.tmp`, file);
  console.log(JSON.stringify(layers), '→', file);
}

main();
