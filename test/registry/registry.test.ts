import assert from 'node:assert/strict';
import { Registry } from '../../src/registry/registry.js';
import { createBuiltinRegistry } from '../../src/registry/builtins.js';
import { builtinStages } from '../../src/stages/index.js';
import { builtinSolvers } from '../../src/solvers/index.js';
import { ScalpelError } from '../../src/errors.js';
import type { StageType } from '../../src/plugin-api/stage.js';
import type { Pruner } from '../../src/plugin-api/pruner.js';
import type { RegistryView } from '../../src/plugin-api/registry-view.js';

function stage(
  name: string,
  schema: Record<string, unknown> = { type: 'object', additionalProperties: false, properties: {} },
): StageType {
  return {
    name,
    version: '1',
    description: `stage ${name}`,
    output: 'metrics',
    schema,
    run: async () => ({ kind: 'metrics' }),
  };
}

function pruner(name: string): Pruner {
  return {
    name,
    version: '1',
    description: `pruner ${name}`,
    schema: {
      type: 'object',
      additionalProperties: false,
      properties: { alpha: { type: 'number', default: 0.5 } },
    },
    prune: async () => ({ masks: new Map() }),
  };
}

function pluginError(fn: () => void): ScalpelError {
  try {
    fn();
  } catch (e) {
    assert.ok(e instanceof ScalpelError);
    return e;
  }
  assert.fail('expected an error');
}

describe('Registry', function () {
  it('registers, looks up and reports origins', function () {
    const r = new Registry();
    r.registerStage(stage('alpha'), 'builtin');
    r.registerAll({ stages: [stage('beta')], pruners: [pruner('mag')] }, 'my-plugin');
    assert.deepEqual(r.stageNames(), ['alpha', 'beta']);
    assert.deepEqual(r.prunerNames(), ['mag']);
    assert.equal(r.originOf('stage', 'beta'), 'my-plugin');
    assert.equal(r.stage('alpha').name, 'alpha');
  });

  it('rejects duplicate names, naming both origins, and leaves the registry unchanged', function () {
    const r = new Registry();
    r.registerStage(stage('alpha'), 'builtin');
    const e = pluginError(() =>
      r.registerAll({ stages: [stage('gamma'), stage('alpha')] }, 'other'),
    );
    assert.equal(e.code, 'E_PLUGIN');
    assert.match(e.message, /stage type 'alpha' from 'other' clashes with the one from 'builtin'/);
    assert.deepEqual(r.stageNames(), ['alpha'], 'gamma must not have been added');
    const twice = pluginError(() => r.registerAll({ pruners: [pruner('p'), pruner('p')] }, 'x'));
    assert.match(twice.message, /pruner 'p' from 'x' clashes with the one from 'x'/);
  });

  it('compiles schemas at registration: invalid ones are E_PLUGIN naming plugin and entry', function () {
    const r = new Registry();
    const bad = pluginError(() =>
      r.registerAll(
        { stages: [stage('s', { type: 'object', properties: { n: { type: 'integr' } } })] },
        'pl',
      ),
    );
    assert.equal(bad.code, 'E_PLUGIN');
    assert.equal(bad.plugin, 'pl');
    assert.match(
      bad.message,
      /plugin 'pl': the schema of stage type 's' is invalid: at \/properties\/n\/type/,
    );
    const typo = pluginError(() =>
      r.registerStage(
        stage('t', { type: 'object', properties: { n: { type: 'integer', minimun: 1 } } }),
        'pl',
      ),
    );
    assert.match(typo.message, /unknown keyword: "minimun"/);
  });

  it('rejects malformed entries', function () {
    const r = new Registry();
    const noRun = { ...stage('s') } as Partial<StageType>;
    delete noRun.run;
    assert.match(
      pluginError(() => r.registerAll({ stages: [noRun as StageType] }, 'p')).message,
      /'s' is missing `run`/,
    );
    assert.match(
      pluginError(() => r.registerAll({ stages: [{ ...stage('s'), name: '' }] }, 'p')).message,
      /no `name`|invalid name/,
    );
    assert.match(
      pluginError(() => r.registerAll({ stages: [{ ...stage('has space') }] }, 'p')).message,
      /invalid name 'has space'/,
    );
    assert.match(
      pluginError(() => r.registerAll({ stages: 'nope' } as never, 'p')).message,
      /`stages` must be a list/,
    );
    const badInputs = { ...stage('s'), inputs: [{ kind: 3 }] } as unknown as StageType;
    assert.match(
      pluginError(() => r.registerAll({ stages: [badInputs] }, 'p')).message,
      /malformed `inputs`/,
    );
  });

  it('unknown names are E_UNKNOWN_NAME with the closest name', function () {
    const r = new Registry();
    r.registerStage(stage('load-model'), 'builtin');
    const e = pluginError(() => r.stage('load-modle'));
    assert.equal(e.code, 'E_UNKNOWN_NAME');
    assert.match(e.hint ?? '', /did you mean 'load-model'\?/);
    assert.match(pluginError(() => r.solver('sa')).hint ?? '', /no solver is defined/);
  });

  it('clone() isolates additions', function () {
    const base = new Registry();
    base.registerStage(stage('alpha'), 'builtin');
    const copy = base.clone();
    copy.registerStage(stage('beta'), 'plugin');
    assert.deepEqual(base.stageNames(), ['alpha']);
    assert.deepEqual(copy.stageNames(), ['alpha', 'beta']);
    // The same name may be registered in two clones independently.
    base.clone().registerStage(stage('beta'), 'other');
  });

  it('validators fill defaults', function () {
    const r = new Registry();
    r.registerPruner(pruner('mag'), 'builtin');
    const params: Record<string, unknown> = {};
    assert.equal(r.validator('pruner', 'mag')(params), true);
    assert.deepEqual(params, { alpha: 0.5 });
  });

  it('schemaFor: a stage schema derived from the registry, rebuilt when pruners are added', function () {
    const dynamic: StageType = {
      ...stage('prune'),
      schemaFor(reg: RegistryView) {
        return {
          type: 'object',
          additionalProperties: false,
          required: ['method'],
          properties: { method: { enum: reg.prunerNames() } },
        };
      },
    };
    const r = new Registry();
    r.registerStage(dynamic, 'builtin');
    r.registerPruner(pruner('magnitude'), 'builtin');
    assert.equal(r.validator('stage', 'prune')({ method: 'magnitude' }), true);
    assert.equal(r.validator('stage', 'prune')({ method: 'wanda' }), false);
    const withWanda = r.clone();
    withWanda.registerPruner(pruner('wanda'), 'plugin');
    assert.equal(withWanda.validator('stage', 'prune')({ method: 'wanda' }), true);
    assert.equal(
      r.validator('stage', 'prune')({ method: 'wanda' }),
      false,
      'base registry unaffected',
    );
    assert.deepEqual(
      (withWanda.paramsSchema('stage', 'prune').properties as { method: { enum: string[] } }).method
        .enum,
      ['magnitude', 'wanda'],
    );
  });

  it('createBuiltinRegistry registers every built-in stage type and solver as builtin', async function () {
    const r = await createBuiltinRegistry();
    assert.deepEqual(r.stageNames(), builtinStages.map((s) => s.name).sort());
    for (const s of builtinSolvers) assert.equal(r.originOf('solver', s.name), 'builtin');
    assert.equal(r.solverNames().length, builtinSolvers.length);
  });
});
