// The prune stage's own checks: missing inputs named with what to add, and pruners that break the
// contract (wrong count, non-binary values, writing into the model) rejected naming the plugin.
import { registryWithFamilies } from '../helpers/models.js';
import assert from 'node:assert/strict';
import { Registry } from '../../src/registry/registry.js';
import { isScalpelError } from '../../src/errors.js';
import { writeKernel } from '../helpers/models.js';
import type { Pruner } from '../../src/plugin-api/pruner.js';
import type { StageType } from '../../src/plugin-api/stage.js';
import { pruneStage } from '../../src/stages/prune.js';
import { wandaPruner } from '../../plugins/baselines/wanda.js';
import { runStage } from '../helpers/stage-context.js';
import { pruneFixture, type PruneFixture } from '../conformance/fixture.js';

const keepAll: Pruner = {
  name: 'bad',
  version: '1',
  description: 'test',
  schema: {
    type: 'object',
    additionalProperties: false,
    properties: { how: { enum: ['count', 'value', 'write', 'fine'] } },
  },
  async prune({ layers, params, model }) {
    const masks = new Map(
      layers.map((l) => [l.info.name, new Uint8Array(l.weights.length).fill(1)]),
    );
    const first = layers[0];
    if (first === undefined) return { masks };
    if (params.how === 'value') (masks.get(first.info.name) as Uint8Array)[0] = 2;
    if (params.how === 'write')
      writeKernel(model, first.info.name, new Float32Array(first.weights.length));
    if (params.how !== 'count') {
      // Otherwise a correct density: keep exactly the first round(d·n) weights.
      for (const l of layers) {
        const m = masks.get(l.info.name) as Uint8Array;
        const k = Math.floor(l.density * m.length + 0.5);
        for (let j = k; j < m.length; j++) m[j] = 0;
        if (params.how === 'value' && l === first) m[0] = 2;
      }
    }
    return { masks };
  },
};

describe('prune stage checks', function () {
  this.timeout(120000);
  let f: PruneFixture;
  let registry: Registry;
  let stage: StageType;
  before(async () => {
    f = await pruneFixture();
    registry = registryWithFamilies();
    registry.registerStage(pruneStage as StageType, 'builtin');
    registry.registerAll({ pruners: [wandaPruner, keepAll] }, 'test-plugin');
    stage = { ...(pruneStage as StageType), schema: registry.paramsSchema('stage', 'prune') };
  });

  it('a pruner that needs calibration without a calibrate stage in needs: E_GRAPH naming it and the fix', async () => {
    const params = { method: 'wanda', density: 0.2, granularity: 'per-output' };
    await assert.rejects(runStage(stage, params, { inputs: [f.model], registry }), (e: unknown) => {
      assert.ok(isScalpelError(e));
      assert.equal(e.code, 'E_GRAPH');
      assert.match(
        e.message,
        /pruner 'wanda' \(plugin 'test-plugin'\) needs calibration statistics \(input norms\)/,
      );
      assert.match(e.hint ?? '', /calibrate/);
      return true;
    });
  });

  for (const [how, pattern] of [
    ['count', /keeps \d+ of \d+ weights; density 0\.2 means/],
    ['value', /has the value 2 at 0/],
    ['write', /changed the weights of layer 'hidden1'/],
  ] as const) {
    it(`rejects a pruner that breaks the contract (${how}), naming the plugin`, async () => {
      await assert.rejects(
        runStage(stage, { method: 'bad', density: 0.2, how }, { inputs: [f.model], registry }),
        (e: unknown) => {
          assert.ok(isScalpelError(e));
          assert.equal(e.code, 'E_STAGE');
          assert.match(
            e.message,
            /pruner 'bad' \(plugin 'test-plugin'\) broke the pruner contract/,
          );
          assert.match(e.message, pattern);
          return true;
        },
      );
    });
  }

  it('records per-layer densities and the method in the metrics', async () => {
    const { result } = await runStage(
      stage,
      {
        method: 'bad',
        density: 0.2,
        how: 'fine',
        layers: { include: ['hidden*'], density: { hidden2: 0.5 } },
      },
      { inputs: [f.model], registry },
    );
    const layers = result.metrics?.layers as Record<string, { kept: number; size: number }>;
    assert.deepEqual(Object.keys(layers), ['hidden1', 'hidden2']);
    assert.equal(layers.hidden1?.kept, Math.floor(0.2 * 784 * 64 + 0.5));
    assert.equal(layers.hidden2?.kept, 0.5 * 64 * 32);
    assert.equal(result.metrics?.method, 'bad');
  });
});
