// A QUBO solver's identity is part of the hash of the iCBS nodes that use it: a plugin solver
// whose version changed reruns them (same version: cached), and every solver is closed when a
// run or sweep ends. Through the real engine on a tiny csv dataset and a 4-6-2 MLP.
import { strict as assert } from 'node:assert';
import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { runRecipe, runSweep } from '../../src/index.js';
import { ErrorCode, isScalpelError } from '../../src/errors.js';
import { Registry } from '../../src/registry/registry.js';
import type { QuboSolver } from '../../src/plugin-api/solver.js';
import { tempDir } from '../helpers/paths.js';
import { Terminal } from '../../src/engine/terminal.js';

/**
 * A plugin solver (named `plugin`) that returns the starting state: `initial` or the first k
 * ones. Its close() appends "<version> <pid>" to `closed.txt` next to it, its solve "<version>" to
 * `solved.txt`.
 */
function solverPlugin(version: string): string {
  return `import { appendFileSync } from 'node:fs';
const here = new URL('.', import.meta.url);
export default {
  name: 'key-test',
  solvers: [{
    name: 'plugin',
    version: '${version}',
    description: 'returns the starting state (test only)',
    schema: { type: 'object', properties: {}, additionalProperties: false },
    async solve(problem) {
      appendFileSync(new URL('solved.txt', here), '${version}\\n');
      const x = problem.initial !== undefined ? Uint8Array.from(problem.initial) : new Uint8Array(problem.n);
      if (problem.initial === undefined) x.fill(1, 0, problem.k);
      let energy = 0;
      for (let i = 0; i < problem.n; i++)
        for (let j = 0; j < problem.n; j++) energy += x[i] * x[j] * problem.Q[i * problem.n + j];
      return { x, energy };
    },
    async close() {
      appendFileSync(new URL('closed.txt', here), '${version} ' + process.pid + '\\n');
    },
  }],
};
`;
}

/** 48 training and 16 test rows of 4 features; the label is whether x0 + x1 > x2 + x3. */
function csv(rows: number, offset: number): string {
  const lines = ['label,a,b,c,d'];
  for (let r = 0; r < rows; r++) {
    const f = [0, 1, 2, 3].map((i) => (((r + offset) * (7 + 3 * i)) % 11) / 10);
    lines.push(`${f[0]! + f[1]! > f[2]! + f[3]! ? 1 : 0},${f.join(',')}`);
  }
  return lines.join('\n') + '\n';
}

function recipe(plugin: string, sweep = ''): string {
  return `version: 1
name: solver-key
seed: 3
backend: cpu
plugins: [${plugin}]
stages:
  data: { uses: load-dataset, with: { source: csv, pixels: false, files: { train: train.csv, test: test.csv } } }
  model:
    uses: train
    needs: [data]
    with:
      epochs: 1
      batchSize: 16
      model: { input: [4], layers: [{ type: dense, units: 6, activation: relu }, { type: dense, units: 2 }] }
  icbs:
    uses: icbs
    needs: [model, data]
    with:
      density: 0.5
      blockSize: 8
      k: 4
      steps: 2
      epochs: 1
      batchSize: 16
      initSamples: 16
      solver: { uses: plugin }
  pruned:
    uses: prune
    needs: [model, data]
    with: { method: icbs, density: 0.5, blockSize: 8, k: 4, steps: 1, epochs: 1, batchSize: 16, initSamples: 16, solver: { uses: plugin } }
${sweep}`;
}

function project(): string {
  const dir = tempDir('scalpel-solver-key-');
  writeFileSync(join(dir, 'train.csv'), csv(48, 0));
  writeFileSync(join(dir, 'test.csv'), csv(16, 100));
  writeFileSync(join(dir, 'solver-v1.js'), solverPlugin('1'));
  writeFileSync(join(dir, 'solver-v2.js'), solverPlugin('2'));
  return dir;
}

const lines = (file: string): string[] =>
  existsSync(file) ? readFileSync(file, 'utf8').split('\n').filter(Boolean) : [];
/** The versions of the closed solvers, one per close() call. */
const closedVersions = (dir: string): string[] =>
  lines(join(dir, 'closed.txt')).map((l) => l.split(' ')[0]!);

describe('icbs: the solver in the cache key', function () {
  this.timeout(120_000);
  const quiet = { quiet: true, terminal: new Terminal(process.stderr, false) };
  let dir: string;
  beforeEach(() => (dir = project()));
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('a plugin solver with a new version reruns the iCBS nodes; the same version is cached; close() runs at the end of every run', async () => {
    const run = async (plugin: string): Promise<Record<string, string>> => {
      const file = join(dir, 'recipe.yaml');
      writeFileSync(file, recipe(plugin));
      const summary = await runRecipe(file, { cwd: dir, ...quiet });
      assert.equal(
        summary.status,
        'ok',
        JSON.stringify(summary.nodes.map((n) => n.error?.message)),
      );
      return Object.fromEntries(summary.nodes.map((n) => [n.id, n.status]));
    };
    const all = { data: 'ran', model: 'ran', icbs: 'ran', pruned: 'ran' };
    assert.deepEqual(await run('./solver-v1.js'), all);
    assert.ok(lines(join(dir, 'solved.txt')).length > 0, 'the plugin solver solved the blocks');
    assert.deepEqual(closedVersions(dir), ['1'], 'closed once when the run ended');

    const cached = { data: 'cached', model: 'cached', icbs: 'cached', pruned: 'cached' };
    assert.deepEqual(await run('./solver-v1.js'), cached, 'same solver version: cached');
    // Same plugin name, only the solver's version differs: both iCBS nodes rerun, nothing else.
    const solvedBefore = lines(join(dir, 'solved.txt')).length;
    assert.deepEqual(await run('./solver-v2.js'), {
      data: 'cached',
      model: 'cached',
      icbs: 'ran',
      pruned: 'ran',
    });
    assert.ok(
      lines(join(dir, 'solved.txt'))
        .slice(solvedBefore)
        .every((v) => v === '2'),
    );
    assert.deepEqual(closedVersions(dir), ['1', '1', '2']);
  });

  it('a sweep closes the solvers when it ends', async () => {
    const file = join(dir, 'sweep.yaml');
    const sweep = `sweep:
  method: grid
  parameters:
    density: { paths: [stages.icbs.with.density], values: [0.25, 0.5] }
`;
    writeFileSync(file, recipe('./solver-v1.js', sweep));
    const summary = await runSweep(file, { cwd: dir, ...quiet });
    assert.equal(summary.status, 'ok');
    assert.equal(summary.trials.ok, 2);
    assert.deepEqual(lines(join(dir, 'closed.txt')), [`1 ${process.pid}`]);
  });

  it('a sweep in worker processes closes the solvers in every worker that loaded them', async () => {
    const file = join(dir, 'sweep.yaml');
    const sweep = `sweep:
  method: grid
  parameters:
    density: { paths: [stages.icbs.with.density], values: [0.25, 0.5] }
`;
    writeFileSync(file, recipe('./solver-v1.js', sweep));
    const summary = await runSweep(file, { cwd: dir, jobs: 2, ...quiet });
    assert.equal(summary.status, 'ok');
    assert.ok(lines(join(dir, 'solved.txt')).length > 0);
    // Once in this process (its registry holds the plugin too) and once in each worker process.
    const pids = lines(join(dir, 'closed.txt')).map((l) => l.split(' ')[1]);
    assert.equal(new Set(pids).size, pids.length, 'each process closed its solver once');
    assert.ok(pids.includes(String(process.pid)));
    assert.ok(
      pids.length >= 2,
      `a worker process closed its solver (closed by ${pids.join(', ')})`,
    );
  });

  it('a plugin solver without a version is refused when it is registered, naming the plugin', () => {
    const registry = new Registry();
    const solver = {
      name: 'unversioned',
      description: 'd',
      schema: { type: 'object' },
      solve: () => Promise.reject(new Error('not called')),
    };
    assert.throws(
      // as a JavaScript plugin would pass it: the type requires `version`
      () => registry.registerAll({ solvers: [solver as unknown as QuboSolver] }, 'my-plugin'),
      (e: unknown) =>
        isScalpelError(e) &&
        e.code === ErrorCode.Plugin &&
        e.plugin === 'my-plugin' &&
        /plugin 'my-plugin': solver 'unversioned' is missing `version`/.test(e.message) &&
        /add version: '1'.*cache key/.test(e.hint ?? ''),
    );
    assert.deepEqual(registry.solverNames(), [], 'nothing registered');
  });
});
