import assert from 'node:assert/strict';
import { parseRecipeYaml } from '../../src/recipe/parse-yaml.js';
import { ScalpelError } from '../../src/errors.js';
import { positionOf } from './recipe-helpers.js';

const text = `version: 1
stages:
  model: { uses: load-model, with: { path: m.json } }
  prune:
    uses: icbs
    needs: [model, data]
    with:
      blockSize: 64
      empty:
sweep:
  parameters:
    stages.prune.with.density: [0.1, 0.2]
`;

function syntaxError(src: string): ScalpelError {
  try {
    parseRecipeYaml('/r.yaml', src);
  } catch (e) {
    assert.ok(e instanceof ScalpelError);
    return e;
  }
  assert.fail('expected a syntax error');
}

describe('parse-yaml', function () {
  const y = parseRecipeYaml('/r.yaml', text);

  it('locates values by dotted path and by segments', function () {
    assert.deepEqual(y.locate('stages.prune.with.blockSize'), {
      file: '/r.yaml',
      ...positionOf(text, '64'),
    });
    assert.deepEqual(y.locate(['stages', 'prune', 'needs', 1]), {
      file: '/r.yaml',
      ...positionOf(text, 'data'),
    });
    assert.deepEqual(y.locate('stages.model.with.path'), {
      file: '/r.yaml',
      ...positionOf(text, 'm.json'),
    });
  });

  it('locates keys when asked to', function () {
    assert.deepEqual(y.locate('stages.prune.with.blockSize', { key: true }), {
      file: '/r.yaml',
      ...positionOf(text, 'blockSize'),
    });
  });

  it('falls back to the nearest existing parent', function () {
    assert.deepEqual(y.locate('stages.prune.with.nothing.deeper'), {
      file: '/r.yaml',
      ...positionOf(text, 'blockSize'),
    });
    assert.deepEqual(y.locate('stages.prune.needs.7'), {
      file: '/r.yaml',
      ...positionOf(text, '[model'),
    });
    // `empty:` has no value: point at the key.
    assert.deepEqual(y.locate('stages.prune.with.empty.x'), {
      file: '/r.yaml',
      ...positionOf(text, 'empty'),
    });
  });

  it('finds keys that contain dots (sweep parameters) whole', function () {
    assert.deepEqual(y.locate('sweep.parameters.stages.prune.with.density'), {
      file: '/r.yaml',
      ...positionOf(text, '[0.1'),
    });
    assert.deepEqual(y.locate(['sweep', 'parameters', 'stages.prune.with.density', 1]), {
      file: '/r.yaml',
      ...positionOf(text, '0.2'),
    });
  });

  it('converts to plain JSON', function () {
    const json = y.toJSON() as { stages: { prune: { needs: string[] } } };
    assert.deepEqual(json.stages.prune.needs, ['model', 'data']);
  });

  it('rejects duplicate keys at the second occurrence', function () {
    const src = 'a: 1\nb:\n  c: 2\n  c: 3\n';
    const e = syntaxError(src);
    assert.equal(e.code, 'E_RECIPE_SYNTAX');
    assert.match(e.message, /duplicate key 'c'/);
    assert.deepEqual([e.location?.line, e.location?.col], [4, 3]);
  });

  it('rejects tabs used for indentation, but not tabs inside strings', function () {
    const e = syntaxError('a:\n\tb: 1\n');
    assert.match(e.message, /Tabs/);
    assert.equal(e.location?.line, 2);
    assert.doesNotThrow(() => parseRecipeYaml('/r.yaml', 'a: "x\ty"\n'));
  });

  it('reports malformed YAML with a position', function () {
    const e = syntaxError('a: [1, 2\nb: 3\n');
    assert.equal(e.code, 'E_RECIPE_SYNTAX');
    assert.ok(e.location?.line !== undefined && e.location.col !== undefined);
  });

  it('rejects aliases without anchors and alias bombs', function () {
    assert.match(syntaxError('a: *nope\n').message, /no anchor/);
    const bomb =
      'a: &a [x, x, x, x, x, x, x, x, x, x]\nb: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a, *a]\n' +
      'c: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b, *b]\nd: &d [*c, *c, *c, *c, *c, *c, *c, *c, *c, *c]\n' +
      'e: [*d, *d, *d, *d, *d, *d, *d, *d, *d, *d]\n';
    const y2 = parseRecipeYaml('/r.yaml', bomb);
    assert.throws(
      () => y2.toJSON(),
      (e: unknown) => e instanceof ScalpelError && e.code === 'E_RECIPE_SYNTAX',
    );
  });
});
