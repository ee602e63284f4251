import assert from 'node:assert/strict';
import { applyOverrides, parseOverride } from '../../src/recipe/overrides.js';
import { parseRecipeYaml } from '../../src/recipe/parse-yaml.js';
import { ScalpelError } from '../../src/errors.js';
import { positionOf } from './recipe-helpers.js';

const text = `version: 1
stages:
  prune:
    uses: icbs
    with:
      density: 0.1
      layers: { include: ["*"] }
  eval:
    uses: evaluate
  export:
    uses: export
    with:
sweep:
  parameters:
    stages.prune.with.density: [0.1]
`;

function apply(...sets: string[]): Record<string, unknown> {
  const y = parseRecipeYaml('/r.yaml', text);
  applyOverrides(y, sets);
  return y.toJSON() as Record<string, unknown>;
}

function overrideError(...sets: string[]): ScalpelError {
  const y = parseRecipeYaml('/r.yaml', text);
  try {
    applyOverrides(y, sets);
  } catch (e) {
    assert.ok(e instanceof ScalpelError);
    assert.equal(e.code, 'E_RECIPE_OVERRIDE');
    return e;
  }
  assert.fail('expected E_RECIPE_OVERRIDE');
}

type Stages = Record<string, { with?: Record<string, unknown> }>;
const stages = (j: Record<string, unknown>): Stages => j.stages as Stages;

describe('overrides (--set)', function () {
  it('parses values as YAML', function () {
    assert.deepEqual(parseOverride('a.b=0.2'), { segments: ['a', 'b'], value: 0.2 });
    assert.deepEqual(parseOverride('a=[accuracy, loss]').value, ['accuracy', 'loss']);
    assert.deepEqual(parseOverride('a={k: 2, m: x}').value, { k: 2, m: 'x' });
    assert.equal(parseOverride('a=true').value, true);
    assert.equal(parseOverride("a='0.2'").value, '0.2');
    assert.equal(parseOverride('a=b=c').value, 'b=c', 'only the first = splits');
  });

  it('replaces, adds and appends', function () {
    const j = apply(
      'stages.prune.with.density=0.2',
      'stages.prune.with.blockSize=64',
      'stages.prune.with.layers.include.1=dense_2',
      'stages.prune.with.layers.include.0=conv*',
    );
    assert.deepEqual(stages(j).prune?.with, {
      density: 0.2,
      layers: { include: ['conv*', 'dense_2'] },
      blockSize: 64,
    });
  });

  it('applies in order: the last one wins', function () {
    assert.equal(
      stages(apply('stages.prune.with.density=0.2', 'stages.prune.with.density=0.3')).prune?.with
        ?.density,
      0.3,
    );
  });

  it("creates a stage's missing or empty `with`", function () {
    const j = apply('stages.eval.with.metrics=[accuracy, loss]', 'stages.export.with.sparse=true');
    assert.deepEqual(stages(j).eval?.with, { metrics: ['accuracy', 'loss'] });
    assert.deepEqual(stages(j).export?.with, { sparse: true });
  });

  it('sets keys that contain dots', function () {
    const j = apply('sweep.parameters.stages.prune.with.density=[0.3, 0.4]');
    assert.deepEqual((j.sweep as { parameters: unknown }).parameters, {
      'stages.prune.with.density': [0.3, 0.4],
    });
  });

  it('rejects a path whose parent does not exist, suggesting the closest key', function () {
    const e = overrideError('stages.prnue.with.density=0.2');
    assert.match(e.message, /stages has no key 'prnue'/);
    assert.match(e.hint ?? '', /did you mean 'prune'\?/);
    assert.deepEqual([e.location?.line, e.location?.col], [positionOf(text, 'prune').line, 3]);
  });

  it('rejects a path through a scalar', function () {
    const e = overrideError('stages.prune.with.density.min=0');
    assert.match(e.message, /stages\.prune\.with\.density is 0\.1/);
    assert.deepEqual([e.location?.line, e.location?.col], [6, positionOf(text, '0.1').col]);
  });

  it('rejects a bad list index', function () {
    assert.match(overrideError('stages.prune.with.layers.include.x=a').message, /not an index/);
    assert.match(overrideError('stages.prune.with.layers.include.5=a').message, /not an index/);
  });

  it('rejects garbled and empty overrides and invalid YAML values', function () {
    assert.match(overrideError('stages.prune.with.density').message, /missing '='/);
    assert.match(overrideError('=3').message, /not a valid path/);
    assert.match(overrideError('stages..prune=3').message, /not a valid path/);
    assert.match(overrideError('stages.prune.with.density=').message, /no value/);
    assert.match(overrideError('stages.eval.with.metrics=[a, b').message, /not valid YAML/);
    assert.match(overrideError('stages.eval.with.m={a: 1, a: 2}').message, /not valid YAML/);
  });
});
