// Sweep expansion: grid counts and order, random draws (seeded, reproducible, inside their
// ranges, log-uniform, integers), exclusions and seed repeats.
import assert from 'node:assert/strict';
import { parseRecipeYaml } from '../../src/recipe/parse-yaml.js';
import { parseSweepSpec } from '../../src/sweep/sweep-spec.js';
import { domainValues, expandSweep } from '../../src/sweep/sweep-expand.js';
import type { SweepSpec } from '../../src/sweep/sweep-types.js';
import { expectArraysClose } from '../helpers/expect-arrays-close.js';

function spec(yaml: string): SweepSpec {
  const parsed = parseRecipeYaml('/virtual/sweep.yaml', yaml);
  const data = parsed.toJSON() as { sweep: unknown };
  return parseSweepSpec(data.sweep, { yaml: parsed, basePath: ['sweep'] });
}

describe('sweep expansion', () => {
  it('grid: the cartesian product in file order, times repeats, with seeds base + r', () => {
    const s = spec(`
sweep:
  parameters:
    stages.prune.with.density: [0.1, 0.2, 0.3]
    stages.prune.with.method: [magnitude, wanda]
  repeats: 2
`);
    const trials = expandSweep(s, 5, 40);
    assert.equal(trials.length, 3 * 2 * 2);
    assert.deepEqual(trials[0]?.parameters, {
      'stages.prune.with.density': 0.1,
      'stages.prune.with.method': 'magnitude',
    });
    assert.deepEqual(trials.map((t) => t.seed).slice(0, 4), [40, 41, 40, 41]);
    assert.deepEqual(trials[1]?.overrides, [
      'stages.prune.with.density=0.1',
      'stages.prune.with.method="magnitude"',
      'seed=41',
    ]);
    assert.deepEqual(trials[0]?.overrides, [
      'stages.prune.with.density=0.1',
      'stages.prune.with.method="magnitude"',
    ]);
    const combos = new Set(trials.map((t) => JSON.stringify(t.parameters)));
    assert.equal(combos.size, 6);
    assert.deepEqual(
      trials.map((t) => t.index),
      [...Array(12).keys()],
    );
  });

  it('grid: ranges with steps, linear and log, integers deduplicated', () => {
    const lin = spec(`sweep: { parameters: { a: { min: 0.1, max: 0.5, steps: 5 } } }`)
      .parameters[0];
    assert.deepEqual(domainValues(lin!.domain), [0.1, 0.2, 0.3, 0.4, 0.5]);
    const log = spec(`sweep: { parameters: { a: { min: 0.001, max: 1, steps: 4, log: true } } }`)
      .parameters[0];
    const lv = domainValues(log!.domain) as number[];
    assert.equal(lv.length, 4);
    expectArraysClose(
      lv,
      [0, 1, 2, 3].map((i) => 10 ** (-3 + i)),
      1e-12,
      'log points',
    );
    const int = spec(`sweep: { parameters: { k: { min: 1, max: 4, steps: 7, integer: true } } }`)
      .parameters[0];
    assert.deepEqual(domainValues(int!.domain), [1, 2, 3, 4]);
  });

  it('exclude drops matching combinations', () => {
    const s = spec(`
sweep:
  parameters:
    d: [0.1, 0.2]
    m: [a, b, c]
  exclude:
    - { d: 0.1, m: b }
    - { m: c }
`);
    const trials = expandSweep(s, 0, 0);
    assert.deepEqual(
      trials.map((t) => `${String(t.parameters['d'])}${String(t.parameters['m'])}`),
      ['0.1a', '0.2a', '0.2b'],
    );
  });

  it('random: seeded by the recipe seed, reproducible, distinct, inside the ranges', () => {
    const s = spec(`
sweep:
  method: random
  samples: 200
  parameters:
    lr: { min: 0.0001, max: 0.1, log: true }
    k: { min: 2, max: 9, integer: true }
    m: [x, y]
`);
    const a = expandSweep(s, 123, 0);
    const b = expandSweep(s, 123, 0);
    const c = expandSweep(s, 124, 0);
    assert.equal(a.length, 200);
    assert.deepEqual(a, b);
    assert.notDeepEqual(
      a.map((t) => t.parameters),
      c.map((t) => t.parameters),
    );
    assert.equal(new Set(a.map((t) => JSON.stringify(t.parameters))).size, 200);
    const lrs = a.map((t) => t.parameters['lr'] as number);
    const ks = a.map((t) => t.parameters['k'] as number);
    for (const lr of lrs) assert.ok(lr >= 0.0001 && lr <= 0.1, `lr ${lr} outside [1e-4, 0.1]`);
    for (const k of ks) assert.ok(Number.isInteger(k) && k >= 2 && k <= 9, `k ${k}`);
    assert.deepEqual(
      [...new Set(ks)].sort((x, y) => x - y),
      [2, 3, 4, 5, 6, 7, 8, 9],
    );
    // Log-uniform: log10(lr) is uniform on [-4, -1], so each decade holds about a third of the draws
    // (a linear draw would put ~90% in the top decade).
    const decades = [0, 0, 0];
    for (const lr of lrs) decades[Math.min(2, Math.floor(Math.log10(lr) + 4))]! += 1;
    for (const n of decades) assert.ok(n > 40 && n < 95, `decade counts ${decades.join(',')}`);
  });

  it('random: asking for more distinct combinations than exist is an E_SWEEP error', () => {
    const s = spec(`sweep: { method: random, samples: 5, parameters: { m: [a, b] } }`);
    assert.throws(
      () => expandSweep(s, 1, 0),
      (e: Error & { code?: string }) => e.code === 'E_SWEEP' && /only 2/.test(e.message),
    );
  });
});
