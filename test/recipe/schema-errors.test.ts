import assert from 'node:assert/strict';
import { createAjv } from '../../src/util/ajv-instance.js';
import { describeSchema, describeValue } from '../../src/recipe/describe.js';
import { parseRecipeYaml } from '../../src/recipe/parse-yaml.js';
import { schemaError, selectErrors } from '../../src/recipe/schema-errors.js';
import { closest } from '../../src/suggest.js';
import { positionOf } from './recipe-helpers.js';

const schema = {
  type: 'object',
  additionalProperties: false,
  properties: {
    k: {
      oneOf: [
        { type: 'integer', minimum: 1 },
        { type: 'string', const: 'auto' },
      ],
    },
    solver: {
      type: 'object',
      oneOf: [
        {
          type: 'object',
          additionalProperties: false,
          required: ['uses'],
          properties: { uses: { const: 'sa' }, restarts: { type: 'integer', minimum: 1 } },
        },
        {
          type: 'object',
          additionalProperties: false,
          required: ['uses'],
          properties: { uses: { const: 'exhaustive' }, maxN: { type: 'integer' } },
        },
      ],
    },
    n: { type: 'number', exclusiveMinimum: 0, maximum: 1 },
  },
};

const validate = createAjv().compile(schema);

function errorsFor(text: string): {
  message: string;
  line: number | undefined;
  col: number | undefined;
  hint?: string;
} {
  const y = parseRecipeYaml('/r.yaml', text);
  const data = y.toJSON();
  assert.equal(validate(data), false);
  const e = schemaError(validate.errors ?? [], { yaml: y, basePath: [], overrides: [] });
  return {
    message: e.message,
    line: e.location?.line,
    col: e.location?.col,
    ...(e.hint !== undefined ? { hint: e.hint } : {}),
  };
}

describe('schema errors', function () {
  it('in a oneOf, reports the branch the user meant (by its const tag)', function () {
    const text = 'solver: { uses: sa, restarts: 0 }\n';
    const e = errorsFor(text);
    assert.match(e.message, /^solver\.restarts: expected integer ≥ 1, found 0 \(integer\)$/);
    assert.deepEqual([e.line, e.col], [1, positionOf(text, '0 }').col]);
  });

  it('unknown key inside the meant branch, with a suggestion', function () {
    const e = errorsFor('solver: { uses: sa, restart: 3 }\n');
    assert.match(e.message, /^solver\.restart: unknown key 'restart'$/);
    assert.match(e.hint ?? '', /did you mean 'restarts'/);
  });

  it('when no branch fits, says what any branch would accept', function () {
    assert.match(
      errorsFor('k: lots\n').message,
      /^k: expected integer ≥ 1 or 'auto', found 'lots' \(string\)$/,
    );
    const tag = errorsFor('solver: { uses: ss }\n');
    assert.match(
      tag.message,
      /^solver\.uses: expected one of 'sa', 'exhaustive', found 'ss' \(string\)$/,
    );
    assert.match(tag.hint ?? '', /did you mean 'sa'\?/);
  });

  it('lists further problems after the first, in file order', function () {
    const text = 'n: 2\nk: 0\nbogus: 1\n';
    const e = errorsFor(text);
    const lines = e.message.split('\n');
    assert.match(lines[0] ?? '', /^n: expected number in \(0, 1\], found 2/);
    assert.match(lines[1] ?? '', /also 2:4: k: expected integer ≥ 1/);
    assert.match(lines[2] ?? '', /also 3:1: bogus: unknown key 'bogus'/);
  });

  it('selectErrors drops the noise of rejected branches', function () {
    validate({ solver: { uses: 'sa', restarts: 0 } });
    const kept = selectErrors(validate.errors ?? []);
    assert.deepEqual(
      kept.map((e) => [e.instancePath, e.keyword]),
      [['/solver/restarts', 'minimum']],
    );
  });

  it('describes schemas and values in plain words', function () {
    assert.equal(describeSchema({ type: 'integer', minimum: 1 }), 'integer ≥ 1');
    assert.equal(
      describeSchema({ type: 'number', exclusiveMinimum: 0, maximum: 1 }),
      'number in (0, 1]',
    );
    assert.equal(
      describeSchema({ type: 'array', items: { type: 'string' }, minItems: 1 }),
      'a list of strings with at least 1 item(s)',
    );
    assert.equal(describeSchema({ enum: ['a', 'b'] }), "one of 'a', 'b'");
    assert.equal(describeValue('abc'), "'abc' (string)");
    assert.equal(describeValue(3), '3 (integer)');
    assert.equal(describeValue(null), 'null (an empty value)');
    assert.equal(describeValue([1, 2]), 'a list of 2');
  });

  it('suggests only plausible typos', function () {
    assert.equal(closest('blokSize', ['blockSize', 'steps']), 'blockSize');
    assert.equal(closest('block_size', ['blockSize', 'steps']), 'blockSize');
    assert.equal(closest('x', ['blockSize', 'steps']), undefined);
  });
});
