// Benchmark of one iCBS step on the bundled garment classifier (784-512-512-10, density 0.1,
// the authors' settings: batch 200, block 1024, k 512, fisher, sa with 10 restarts), broken into
// its parts: gradients (forward + backward + the block's columns of G), Hessian (GᵀG), QUBO
// construction (+ scaling) and solve. Bar (issue #4): median ≤ 0.5 s per step on this machine.
//
// Run: `npm run build && node dist/bench/icbs-step.js [steps]`. Writes bench/results/icbs-step.json.
// Model: SCALPEL_BENCH_MODEL or assets/garment-classifier/model.json.
import { mkdirSync, renameSync, writeFileSync } from 'node:fs';
import { availableParallelism, cpus } from 'node:os';
import { join } from 'node:path';
import { initBackend } from '../src/models/backend.js';
import { tfjsLayersFamily } from '../src/models/tfjs-layers/family.js';
import { garmentDataset } from './helpers/garment-data.js';
import { sa } from '../src/solvers/index.js';
import { runIcbsSteps } from './helpers/icbs-steps.js';
import { icbsDefaults } from '../src/icbs/params.js';
import { packageRoot } from '../src/util/package-root.js';

function median(v: number[]): number {
  const a = [...v].sort((x, y) => x - y);
  return a.length === 0
    ? 0
    : ((a[(a.length - 1) >> 1] as number) + (a[a.length >> 1] as number)) / 2;
}

async function main(): Promise<void> {
  const steps = Number(process.argv[2] ?? 30);
  const warmup = 3;
  const backend = await initBackend('wasm');
  const modelPath =
    process.env.SCALPEL_BENCH_MODEL ??
    join(packageRoot, 'assets', 'garment-classifier', 'model.json');
  const model = await tfjsLayersFamily.load(modelPath);

  const dataset = await garmentDataset();
  const train = dataset.splits.get('train');
  if (train === undefined) throw new Error('no train split');

  const params = icbsDefaults;
  const warmupAndSteps = steps + warmup;
  const { states, records: all } = await runIcbsSteps({
    model,
    train,
    count: warmupAndSteps,
    onStep: (t, rec) =>
      process.stdout.write(
        `step ${t + 1} ${rec.layer} n=${rec.blockSize} k=${rec.k} total ${rec.timeMs.total.toFixed(0)} ms ` +
          `(grad ${rec.timeMs.gradients.toFixed(0)}, H ${rec.timeMs.hessian.toFixed(0)}, qubo ${rec.timeMs.qubo.toFixed(0)}, solve ${rec.timeMs.solve.toFixed(0)}) dL ${rec.predictedDeltaL.toExponential(2)}\n`,
      ),
  });
  const records = all.slice(warmup);
  await sa.close?.();
  const parts = ['gradients', 'hessian', 'qubo', 'solve', 'total'] as const;
  const byLayer: Record<string, Record<string, number>> = {};
  for (const s of states) {
    const mine = records.filter((r) => r.layer === s.name);
    if (mine.length === 0) continue;
    byLayer[s.name] = Object.fromEntries([
      ['steps', mine.length],
      ...parts.map((p) => [`${p}Ms`, median(mine.map((r) => r.timeMs[p]))]),
    ]);
  }
  const medianTotal = median(records.map((r) => r.timeMs.total));
  const result = {
    benchmark: 'icbs-step',
    date: new Date().toISOString(),
    machine: {
      cpus: cpus().length,
      parallelism: availableParallelism(),
      model: cpus()[0]?.model ?? '',
    },
    backend: backend.name,
    model: modelPath,
    settings: {
      density: 0.1,
      batchSize: params.batchSize,
      blockSize: params.blockSize,
      k: params.k,
      hessian: params.hessian,
      solver: params.solver,
    },
    steps: records.length,
    warmup,
    medianMs: Object.fromEntries(parts.map((p) => [p, median(records.map((r) => r.timeMs[p]))])),
    byLayer,
    bar: { medianStepMs: 500, met: medianTotal <= 500 },
  };
  const dir = join(packageRoot, 'bench', 'results');
  mkdirSync(dir, { recursive: true });
  const file = join(dir, 'icbs-step.json');
  writeFileSync(`${file}.tmp`, JSON.stringify(result, null, 2) + '\n');
  renameSync(`${file}.tmp`, file);
  console.log(
    JSON.stringify(result.medianMs),
    result.bar.met ? 'bar met' : 'BAR MISSED',
    '→',
    file,
  );
  model.dispose();
}

main().catch((e: unknown) => {
  console.error(e);
  process.exit(1);
});
