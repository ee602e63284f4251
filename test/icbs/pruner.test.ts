import { strict as assert } from 'node:assert';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { asPrunable } from '../helpers/models.js';
import { keepCount } from '../../src/pruning/select-mask.js';
import { icbsPruner } from '../../src/icbs/pruner.js';
import type { QuboSolver } from '../../src/plugin-api/solver.js';
import type { RegistryView } from '../../src/plugin-api/registry-view.js';
import { ErrorCode, ScalpelError } from '../../src/errors.js';
import { repoRoot } from '../helpers/paths.js';
import {
  icbsPrunerSchema,
  icbsPrunerSchemaFor,
  icbsStageSchema,
  icbsStageSchemaFor,
} from '../../src/icbs/schema.js';
import { builtinRegistry } from '../../src/registry/builtins.js';
import { exhaustive } from '../../src/solvers/exhaustive.js';
import { compileSchema } from '../../src/util/ajv-instance.js';
import { mlp, teacherDataset, trainSteps, useWasm } from './fixtures.js';
import { pruneArgs, type RecordedEvent } from './prune-args.js';

const small = {
  blockSize: 32,
  k: 12,
  steps: 9,
  epochs: 2,
  batchSize: 32,
  solver: { uses: 'sa', restarts: 2, workers: 0 },
};

describe('icbs: the pruner', () => {
  before(useWasm);

  it('is deterministic, keeps exact densities, restores the model and records steps and the curve', async function () {
    this.timeout(60000);
    const data = teacherDataset([20], 4);
    const run = async (seed: number, events: RecordedEvent[]) => {
      const model = mlp();
      trainSteps(model, data.splits.get('train')!, 5);
      const before = ['linear1', 'linear2', 'linear3'].map((n) => asPrunable(model).readWeight(n));
      const args = pruneArgs(
        model,
        data,
        { ...small, evaluateEvery: 6, evaluateOn: { split: 'test', samples: 100 } },
        { seed, events, density: 0.25 },
      );
      const result = await icbsPruner.prune(args);
      ['linear1', 'linear2', 'linear3'].forEach((n, i) =>
        assert.deepEqual(asPrunable(model).readWeight(n), before[i], `${n} restored`),
      );
      model.dispose();
      return { result, layers: args.layers };
    };
    const eventsA: RecordedEvent[] = [];
    const a = await run(5, eventsA);
    const b = await run(5, []);
    const c = await run(6, []);
    for (const l of a.layers) {
      const name = l.info.name;
      const mask = a.result.masks.get(name)!;
      assert.deepEqual(mask, b.result.masks.get(name), `${name}: same seed → identical mask`);
      let kept = 0;
      for (const v of mask) kept += v;
      assert.equal(kept, keepCount(0.25, mask.length), `${name}: exact density`);
    }
    const differs = a.layers.some(
      (l) =>
        !a.result.masks
          .get(l.info.name)!
          .every((v, j) => v === c.result.masks.get(l.info.name)![j]),
    );
    assert.ok(differs, 'another seed gives another run');

    const steps = eventsA.filter((e) => e.type === 'icbs.step');
    assert.equal(steps.length, 18);
    for (const e of steps) {
      for (const key of [
        'layer',
        'blockSize',
        'k',
        'predictedDeltaL',
        'energyBefore',
        'energyAfter',
        'changed',
        'timeMs',
      ]) {
        assert.ok(key in e.data, `step event has ${key}`);
      }
    }
    const perLayer = new Map<string, number>();
    for (const e of steps)
      perLayer.set(e.data.layer as string, (perLayer.get(e.data.layer as string) ?? 0) + 1);
    assert.deepEqual(
      [...perLayer.keys()].sort(),
      ['linear1', 'linear2', 'linear3'],
      'every layer gets steps',
    );
    const info = a.result.info?.icbs as {
      curve: { step: number; accuracy: number }[];
      steps: number;
      layers: Record<string, { density: number }>;
    };
    assert.deepEqual(
      info.curve.map((p) => p.step),
      [0, 6, 12, 18],
    );
    assert.equal(info.steps, 18);
    for (const [name, l] of Object.entries(info.layers)) {
      const size = a.layers.find((x) => x.info.name === name)!.weights.length;
      assert.equal(l.density, keepCount(0.25, size) / size);
    }
  });

  it('fails loudly when the solver returns the wrong number of ones', async function () {
    this.timeout(30000);
    const data = teacherDataset([20], 4);
    const model = mlp();
    const broken: QuboSolver = {
      name: 'broken',
      version: '1',
      description: 'returns k + 1 ones',
      schema: { type: 'object', properties: {}, additionalProperties: false },
      async solve(problem) {
        const x = new Uint8Array(problem.n);
        x.fill(1, 0, Math.min(problem.n, problem.k + 1));
        return { x, energy: 0 };
      },
    };
    const registry = { solver: () => broken } as unknown as RegistryView;
    const args = { ...pruneArgs(model, data, { ...small, solver: { uses: 'broken' } }), registry };
    await assert.rejects(
      icbsPruner.prune(args),
      (e: unknown) =>
        e instanceof ScalpelError &&
        e.code === ErrorCode.Internal &&
        /exactly k ones|ones for a block/.test(e.message),
    );
    model.dispose();
  });

  it('rejects invalid solver parameters with the solver schema', async () => {
    const data = teacherDataset([20], 4);
    const model = mlp();
    const args = pruneArgs(model, data, { ...small, solver: { uses: 'sa', restart: 3 } });
    await assert.rejects(
      icbsPruner.prune(args),
      (e: unknown) =>
        e instanceof ScalpelError && e.code === ErrorCode.RecipeSchema && /restart/.test(e.message),
    );
    model.dispose();
  });

  it('the composed schemas check built-in solver parameters (typos are recipe errors)', () => {
    for (const schema of [icbsPrunerSchema(), icbsStageSchema()]) {
      const validate = compileSchema(schema);
      assert.equal(validate({ solver: { uses: 'sa', restarts: 3 } }), true);
      assert.equal(validate({ solver: { uses: 'sa', restart: 3 } }), false);
      assert.equal(validate({ solver: { uses: 'external' } }), false, 'external needs a command');
      assert.equal(validate({ solver: { uses: 'nope' } }), false, 'unknown solver name');
      assert.equal(validate({ k: 512, blockSize: 512 }), false, 'k must be below blockSize');
      assert.equal(validate({ k: 511, blockSize: 512 }), true);
      assert.equal(validate({ k: 1024 }), false, 'k below the default blockSize 1024');
    }
  });

  it('the registry-built schemas know plugin solvers and check their parameters', async () => {
    const registry = (await builtinRegistry()).clone();
    registry.registerAll({ solvers: [{ ...exhaustive, name: 'my-solver' }] }, 'my-plugin');
    for (const schema of [icbsPrunerSchemaFor(registry), icbsStageSchemaFor(registry)]) {
      const validate = compileSchema(schema);
      // my-solver copies exhaustive's limit (maxVariables 24): the default block (1024) is refused
      const small = { blockSize: 24, k: 12 };
      assert.equal(validate({ ...small, solver: { uses: 'my-solver' } }), true);
      assert.equal(validate({ solver: { uses: 'my-solver' } }), false, 'default blockSize > 24');
      assert.equal(validate({ blockSize: 25, k: 12, solver: { uses: 'my-solver' } }), false);
      assert.equal(validate({ blockSize: 1024, solver: { uses: 'sa' } }), true, 'sa has no limit');
      assert.equal(validate({ ...small, solver: { uses: 'my-solver', anything: 1 } }), false);
      assert.equal(validate({ solver: { uses: 'sa', restarts: 3 } }), true);
      assert.equal(validate({ solver: { uses: 'nope' } }), false);
    }
  });

  it('the icbs stage schema is the prune common parameters plus the pruner schema', () => {
    const read = (p: string) => JSON.parse(readFileSync(join(repoRoot, 'schemas', p), 'utf8'));
    const stage = read('stages/icbs.schema.json');
    const own = read('pruners/icbs.schema.json');
    const common = read('stages/prune.common.schema.json');
    const commonProps = Object.fromEntries(
      Object.entries(common.properties).filter(([key]) => key !== 'method'),
    );
    assert.deepEqual(
      Object.keys(stage.properties).sort(),
      [...Object.keys(commonProps), ...Object.keys(own.properties)].sort(),
    );
    for (const [k, v] of Object.entries(own.properties))
      assert.deepEqual(stage.properties[k], v, `property ${k}`);
    // density defaults to 0.1 only without an N:M pattern (which implies keep/of).
    const validate = compileSchema(icbsStageSchema());
    const plain: Record<string, unknown> = {};
    const nm: Record<string, unknown> = { pattern: { keep: 2, of: 4 } };
    assert.equal(validate(plain) && validate(nm), true);
    assert.equal(plain.density, 0.1);
    assert.equal(nm.density, undefined);
    const { density: _density, ...stageRule } = stage.allOf[0].then.properties;
    assert.deepEqual(stageRule, own.allOf[0].then.properties, 'the same conditional rules');
    for (const [k, v] of Object.entries(own.properties) as [string, { description?: string }][])
      assert.ok(v.description, `${k} has a description`);
  });
});
