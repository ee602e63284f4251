import { strict as assert } from 'node:assert';
import { createHash } from 'node:crypto';
import fc from 'fast-check';
import { hashInput, nodeHash, type HashMaterial } from '../../src/engine/hash.js';

const base: HashMaterial = {
  stageType: 'count',
  stageVersion: '1',
  params: { value: 2, nested: { b: [1, 2], a: 'x' } },
  fingerprint: { file: 'abc' },
  inputs: ['11', '22'],
  seed: 43,
  backend: 'wasm',
};

/** Reorder the keys of every object, recursively (a different but equal JSON value). */
function reversedKeys(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(reversedKeys);
  if (v !== null && typeof v === 'object') {
    return Object.fromEntries(
      Object.entries(v as Record<string, unknown>)
        .reverse()
        .map(([k, x]) => [k, reversedKeys(x)]),
    );
  }
  return v;
}

describe('node hash', () => {
  it('is sha256 of the RFC 8785 canonical JSON of the material', () => {
    // Written out by hand: keys sorted by code unit, no whitespace.
    const expected =
      '{"backend":"wasm","fingerprint":{"file":"abc"},"format":1,"inputs":["11","22"],' +
      '"params":{"nested":{"a":"x","b":[1,2]},"value":2},"seed":43,"stageType":"count","stageVersion":"1"}';
    assert.equal(hashInput(base), expected);
    assert.equal(nodeHash(base), createHash('sha256').update(expected).digest('hex'));
    assert.match(nodeHash(base), /^[0-9a-f]{64}$/);
  });

  it('does not depend on the key order of params or fingerprint', () => {
    fc.assert(
      fc.property(fc.jsonValue(), fc.jsonValue(), (params, fingerprint) => {
        const p = { p: params };
        const a = nodeHash({ ...base, params: p, fingerprint });
        const b = nodeHash({
          ...base,
          params: reversedKeys(p) as Record<string, unknown>,
          fingerprint: reversedKeys(fingerprint),
        });
        return a === b;
      }),
      { numRuns: 200 },
    );
  });

  it('changes when any part of the material changes', () => {
    const h = nodeHash(base);
    const variants: HashMaterial[] = [
      { ...base, stageType: 'count2' },
      { ...base, stageVersion: '2' },
      { ...base, params: { ...base.params, value: 3 } },
      { ...base, params: { ...base.params, extra: null } },
      { ...base, params: { value: 2, nested: { b: [2, 1], a: 'x' } } }, // array order matters
      { ...base, fingerprint: { file: 'abd' } },
      { ...base, fingerprint: undefined },
      { ...base, inputs: ['22', '11'] }, // needs order matters
      { ...base, inputs: ['11'] },
      { ...base, seed: 44 },
      { ...base, backend: 'cpu' },
    ];
    const hashes = variants.map(nodeHash);
    for (const v of hashes) assert.notEqual(v, h);
    assert.equal(new Set(hashes).size, hashes.length, 'all variants differ from each other too');
  });

  it('changes for any single param change (property)', () => {
    fc.assert(
      fc.property(
        fc.dictionary(fc.string(), fc.jsonValue()),
        fc.string(),
        fc.jsonValue(),
        (params, key, value) => {
          fc.pre(
            JSON.stringify(params[key]) !== JSON.stringify(value) &&
              !(key in params && params[key] === undefined),
          );
          const changed = { ...params, [key]: value };
          fc.pre(JSON.stringify(changed) !== JSON.stringify(params));
          return nodeHash({ ...base, params }) !== nodeHash({ ...base, params: changed });
        },
      ),
      { numRuns: 200 },
    );
  });

  it('has no stage id in its material', () => {
    assert.deepEqual(Object.keys(JSON.parse(hashInput(base)) as object).sort(), [
      'backend',
      'fingerprint',
      'format',
      'inputs',
      'params',
      'seed',
      'stageType',
      'stageVersion',
    ]);
  });

  it('rejects values that have no reproducible JSON form', () => {
    assert.throws(() => nodeHash({ ...base, params: { x: Number.NaN } }), /E_INTERNAL|NaN/);
    assert.throws(() => nodeHash({ ...base, params: { x: Infinity } }), /Infinity/);
  });
});
