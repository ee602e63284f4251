// Schema defaults are the one source of a parameter's default: every `default` in schemas/ is
// valid for its own subschema and agrees with the other places the same schema states it (an
// object's default vs its properties' defaults, a default repeated inside allOf), and the code's
// default tables (icbsDefaults, saDefaults, the external solver's) are what ajv fills in, and the
// tokenizer library's own defaults are the train-tokenizer stage's.
import { strict as assert } from 'node:assert';
import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { compileSchema, createAjv } from '../../src/util/ajv-instance.js';
import { icbsDefaults, withDefaults, type IcbsParams } from '../../src/icbs/params.js';
import { icbsPrunerSchema } from '../../src/icbs/schema.js';
import { saDefaults } from '../../src/solvers/sa/params.js';
import { externalDefaults } from '../../src/solvers/external/index.js';
import { trainByteLevelBpe } from '../../src/data/tokenizer/train-bpe.js';
import { tokenizerConfigJson } from '../../src/data/tokenizer/tokenizer-config.js';
import { readSchema, schemaDefaults } from '../../src/util/schemas.js';
import { repoRoot } from '../helpers/paths.js';

type Json = Record<string, unknown>;
const schemasDir = join(repoRoot, 'schemas');

function schemaFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory()
      ? schemaFiles(join(dir, e.name))
      : e.name.endsWith('.schema.json')
        ? [join(dir, e.name)]
        : [],
  );
}

/** Every subschema holding a `default`, with its JSON pointer. */
function withDefault(node: unknown, pointer: string, out: [string, Json][] = []): [string, Json][] {
  if (node === null || typeof node !== 'object') return out;
  if (!Array.isArray(node) && 'default' in node) out.push([pointer, node as Json]);
  for (const [key, child] of Object.entries(node))
    if (key !== 'default' && key !== 'const' && key !== 'enum')
      withDefault(child, `${pointer}/${key}`, out);
  return out;
}

/** The subschema without its default, as a standalone schema (`$data` bounds left out). */
function standalone(sub: Json): Json {
  const { default: _, ...rest } = sub;
  return JSON.parse(JSON.stringify(rest), (_k, v: unknown) =>
    v !== null && typeof v === 'object' && '$data' in v ? undefined : v,
  ) as Json;
}

const files = schemaFiles(schemasDir);

describe('schema defaults', () => {
  it('finds the schemas (pruners, solvers, stages, recipe, sweep)', () => {
    const names = files.map((f) => relative(schemasDir, f));
    for (const expected of [
      'pruners/icbs.schema.json',
      'solvers/sa.schema.json',
      'stages/icbs.schema.json',
      'recipe.schema.json',
    ])
      assert.ok(names.includes(expected), expected);
  });

  for (const file of files) {
    const name = relative(schemasDir, file);
    const schema = JSON.parse(readFileSync(file, 'utf8')) as Json;
    const defaults = withDefault(schema, '');

    it(`${name}: every default is valid for its own subschema`, () => {
      const ajv = createAjv();
      for (const [pointer, sub] of defaults) {
        // `then` branches state only what changes (a default, a bound), not the type.
        if (/\/(then|else)\//.test(pointer)) continue;
        const validate = ajv.compile(standalone(sub));
        const value = structuredClone(sub.default);
        // (ajv fills the nested defaults into a copy of `{}`-style defaults: that is fine.)
        assert.ok(
          validate(value),
          `${name}#${pointer}: default ${JSON.stringify(sub.default)} fails: ${JSON.stringify(validate.errors)}`,
        );
      }
    });

    it(`${name}: an object's default agrees with its properties' defaults`, () => {
      for (const [pointer, sub] of defaults) {
        const props = sub.properties as Record<string, Json> | undefined;
        const value = sub.default;
        if (props === undefined || value === null || typeof value !== 'object') continue;
        for (const [key, prop] of Object.entries(props)) {
          if (!('default' in prop) || !(key in value)) continue;
          assert.deepEqual(
            (value as Json)[key],
            prop.default,
            `${name}#${pointer}: default.${key} differs from properties.${key}.default`,
          );
        }
      }
    });

    it(`${name}: a default repeated in allOf/then equals the property's own`, () => {
      const top = (schema.properties ?? {}) as Record<string, Json>;
      for (const [pointer, sub] of defaults) {
        const m = /^\/allOf\/\d+\/(?:then|else)\/properties\/([^/]+)$/.exec(pointer);
        if (m === null) continue;
        const own = top[m[1]!];
        assert.ok(own !== undefined, `${name}#${pointer}: not a top-level property`);
        // Without a top-level default it is a conditional default (icbs density), not a repeat.
        if ('default' in own) assert.deepEqual(sub.default, own.default, `${name}#${pointer}`);
      }
    });
  }

  it('icbs: the code defaults are the schema defaults, and every parameter but pattern has one', () => {
    // Listing every key of IcbsParams (the compiler checks the list is complete) ties the type
    // to the schema: a new parameter without a schema default fails here.
    const keys = {
      init: true,
      initSamples: true,
      selection: true,
      blockSize: true,
      k: true,
      steps: true,
      epochs: true,
      batchSize: true,
      hessian: true,
      gradMultiplier: true,
      ridgeMultiplier: true,
      tabuFraction: true,
      fix: true,
      minStepsPerLayer: true,
      solver: true,
      evaluateEvery: true,
      evaluateOn: true,
      trainSplit: true,
      pattern: false,
    } satisfies Record<keyof IcbsParams, boolean>;
    const schema = JSON.parse(
      readFileSync(join(schemasDir, 'pruners', 'icbs.schema.json'), 'utf8'),
    ) as Json;
    assert.deepEqual(Object.keys(schema.properties as Json).sort(), Object.keys(keys).sort());
    const required = Object.entries(keys)
      .filter(([, r]) => r)
      .map(([k]) => k);
    assert.deepEqual(Object.keys(icbsDefaults).sort(), required.sort());

    // What ajv fills into `{}` (its own default machinery, allOf included) is what the code uses.
    const filled: Json = {};
    assert.ok(compileSchema(icbsPrunerSchema())(filled));
    assert.deepEqual(filled, { ...icbsDefaults });
    assert.deepEqual(withDefaults({}), filled);
    // Nested objects given in part are completed from the same defaults.
    const fix = (schema.properties as Record<string, { default: { keep: number } }>).fix;
    assert.deepEqual(withDefaults({ fix: { prune: 0.1 } }).fix, {
      prune: 0.1,
      keep: fix?.default.keep,
    });
    // Defaults are copies: a caller editing them does not change the next caller's.
    (withDefaults({}).init as { method: string }).method = 'random';
    assert.equal(icbsDefaults.init.method, 'magnitude');
  });

  it("the solvers' code defaults are the schema defaults (sa, external)", () => {
    for (const [solver, code] of [
      ['sa', saDefaults],
      ['external', externalDefaults()],
    ] as const) {
      const filled: Json = solver === 'external' ? { command: 'true' } : {};
      const schema = JSON.parse(
        readFileSync(join(schemasDir, 'solvers', `${solver}.schema.json`), 'utf8'),
      ) as Json;
      assert.ok(compileSchema(schema)(filled), solver);
      delete filled.command;
      assert.deepEqual({ ...code }, filled, solver);
    }
    assert.equal(externalDefaults().timeoutSeconds, 600, 'documented in docs/icbs.md');
  });

  it("train-tokenizer: the tokenizer library's defaults are the schema's (minFrequency, modelMaxLength)", () => {
    const defaults = schemaDefaults(readSchema('stages/train-tokenizer.schema.json'));
    const minFrequency = defaults.minFrequency as number;
    const modelMaxLength = defaults.modelMaxLength as number;
    assert.ok(Number.isInteger(minFrequency) && minFrequency >= 1, 'minFrequency has a default');
    assert.ok(Number.isInteger(modelMaxLength), 'modelMaxLength has a default');

    // Word k (two fresh letters) appears k times, so the pair in it occurs k times: training with
    // minFrequency m merges exactly the words with k ≥ m, and every m up to K gives other merges.
    const K = minFrequency + 1;
    const texts = Array.from({ length: K }, (_, i) => {
      const word = String.fromCharCode(97 + 2 * i, 98 + 2 * i);
      return Array.from({ length: i + 1 }, () => word);
    }).flat();
    const merges = (m?: number): readonly (readonly [string, string])[] =>
      trainByteLevelBpe(texts, { vocabSize: 1000, ...(m !== undefined ? { minFrequency: m } : {}) })
        .merges;
    assert.deepEqual(merges(), merges(minFrequency), 'trainByteLevelBpe without minFrequency');
    for (let m = 1; m <= K; m++) assert.equal(merges(m).length, K - m + 1, `minFrequency ${m}`);

    const model = trainByteLevelBpe(['ab'], { vocabSize: 256 });
    assert.equal(tokenizerConfigJson(model).model_max_length, modelMaxLength);
  });

  it('schemaDefaults copies: editing the result leaves the schema alone', () => {
    const schema = { type: 'object', properties: { a: { type: 'array', default: [1] } } };
    const d = schemaDefaults(schema);
    (d.a as number[]).push(2);
    assert.deepEqual(schema.properties.a.default, [1]);
    assert.deepEqual(schemaDefaults(schema), { a: [1] });
  });
});
