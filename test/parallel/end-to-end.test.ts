// A tiny recipe through the real CLI at --threads 1 and --threads 2: calibrate (norms, XᵀX, mean
// gradients), iCBS (gradient selection, fisher) and evaluate on the garment classifier. Every
// metric but the timings and every artifact byte (calibration statistics, masks, weights) must
// be the same; lock.json records the thread count.
import { strict as assert } from 'node:assert';
import { readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { repoRoot, tempDir } from '../helpers/paths.js';
import { readJson, runCli, runDirOf } from '../cli/cli-helpers.js';

const recipe = (model: string): string => `version: 1
name: par-e2e
seed: 7
backend: wasm
stages:
  model: { uses: load-model, with: { path: ${JSON.stringify(model)} } }
  data:
    uses: load-dataset
    with: { source: fashion-mnist, normalize: { mean: 0.5, std: 0.5 } }
  calib:
    uses: calibrate
    needs: [model, data]
    with: { samples: 300, batchSize: 64, gram: false, gramMaxFanIn: 600, split: train }
  prune:
    uses: icbs
    needs: [model, data]
    with:
      density: 0.3
      selection: gradient
      blockSize: 256
      k: 128
      steps: 6
      epochs: 1
      batchSize: 64
      hessian: fisher
      solver: { uses: sa, restarts: 2, sweeps: 1 }
      evaluateEvery: 3
      evaluateOn: { split: test, samples: 1000 } # two batches of 500: split over the workers
  eval:
    uses: evaluate
    needs: [prune, data]
    with: { metrics: [accuracy, loss, sparsity], samples: 3000, batchSize: 250 }
`;

/** The metrics without wall-clock times (they differ from run to run). */
function withoutTimes(x: unknown): unknown {
  if (Array.isArray(x)) return x.map(withoutTimes);
  if (x !== null && typeof x === 'object')
    return Object.fromEntries(
      Object.entries(x)
        .filter(([k]) => !/(Ms|^timeMs|^seconds)$/.test(k) && k !== 'timeMs')
        .map(([k, v]) => [k, withoutTimes(v)]),
    );
  return x;
}

function artifactFiles(dir: string): Map<string, Buffer> {
  const out = new Map<string, Buffer>();
  for (const stage of readdirSync(join(dir, 'artifacts'))) {
    for (const f of readdirSync(join(dir, 'artifacts', stage)))
      out.set(`${stage}/${f}`, readFileSync(join(dir, 'artifacts', stage, f)));
  }
  return out;
}

describe('end to end: --threads 2 gives the --threads 1 run', function () {
  this.timeout(180_000);
  let dir: string;
  before(() => {
    dir = tempDir('scalpel-parallel-e2e-');
    writeFileSync(
      join(dir, 'recipe.yaml'),
      recipe(join(repoRoot, 'assets', 'garment-classifier', 'model.json')),
    );
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('has the same metrics and artifacts, and records the thread count', async () => {
    const runs = [];
    for (const threads of ['1', '2']) {
      const r = await runCli(
        ['run', 'recipe.yaml', '--no-cache', '--threads', threads, '--out', `t${threads}`],
        dir,
      );
      assert.equal(r.code, 0, r.stderr);
      runs.push(runDirOf(r, dir));
    }
    const [one, two] = runs as [string, string];
    const m1 = readJson<Record<string, Record<string, unknown>>>(join(one, 'metrics.json'));
    const m2 = readJson<Record<string, Record<string, unknown>>>(join(two, 'metrics.json'));
    assert.deepEqual(withoutTimes(m2), withoutTimes(m1));
    assert.equal(typeof m1.eval?.accuracy, 'number');
    const a1 = artifactFiles(one);
    const a2 = artifactFiles(two);
    assert.deepEqual([...a2.keys()].sort(), [...a1.keys()].sort());
    for (const [f, bytes] of a1)
      assert.ok(bytes.equals(a2.get(f) ?? Buffer.alloc(0)), `${f} differs`);
    assert.ok(a1.has('calib/layer1.gram.f64') && a1.has('prune/masks.bin'));
    const lock = (d: string): unknown =>
      readJson<{ backend: { threads: number } }>(join(d, 'lock.json')).backend.threads;
    assert.deepEqual([lock(one), lock(two)], [1, 2]);
  });
});
