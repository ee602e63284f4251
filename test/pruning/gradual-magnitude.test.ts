// Gradual magnitude pruning on a real tiny model: between updates the weights are scrambled (as
// training would change them; pruned ones too, which must not matter), and at every update the
// masks only grow, keep round((1 − s_t)·size) weights (computed here from the formula), keep
// exactly the largest |w| among the weights still kept, and end at the exact final density.
import { strict as assert } from 'node:assert';
import { initBackend } from '../../src/models/backend.js';
import { GradualMagnitude, type GradualSpec } from '../../src/pruning/gradual-magnitude.js';
import type { Mask } from '../../src/plugin-api/layers.js';
import { Rng } from '../../src/util/rng.js';
import { asPrunable, writeKernel } from '../helpers/models.js';
import { makeModel } from '../stages/fixtures.js';

const rounded = (d: number, n: number): number => Math.floor(d * n + 0.5 + 1e-9);

function sparsityAt(s: GradualSpec, t: number): number {
  const frac = Math.min(1, Math.max(0, (t - s.beginStep) / (s.endStep - s.beginStep)));
  return s.finalSparsity + (s.initialSparsity - s.finalSparsity) * (1 - frac) ** s.power;
}

function count(m: Mask): number {
  return m.reduce((a, b) => a + b, 0);
}

describe('gradual magnitude pruning', function () {
  this.timeout(30_000);
  before(async () => {
    await initBackend('wasm');
  });

  for (const granularity of ['layer', 'global'] as const) {
    it(`${granularity}: masks only grow, counts follow the schedule, the final density is exact`, () => {
      const spec: GradualSpec = {
        initialSparsity: 0.2,
        finalSparsity: 0.9,
        beginStep: 2,
        endStep: 12,
        power: 2,
        frequency: 3,
        granularity,
      };
      const tfModel = makeModel();
      const model = asPrunable(tfModel);
      const layers = model.operators;
      // linear2 starts with an incoming mask pruning its first 40 weights.
      const incoming = new Uint8Array(320).fill(1).fill(0, 0, 40);
      const g = new GradualMagnitude(model, spec, layers, new Map([['linear2', incoming]]));
      let prev = new Map<string, Mask>(
        layers.map((l) => [l.name, Uint8Array.from(g.current().get(l.name) ?? [])]),
      );
      const rng = new Rng(5);
      const updates: number[] = [];
      for (let t = 0; t <= 15; t++) {
        const weights = new Map<string, Float32Array>();
        for (const l of layers) {
          const w = Float32Array.from({ length: l.paramCount }, () => rng.normal() * 3);
          writeKernel(model, l.name, w);
          weights.set(l.name, w);
        }
        const next = g.update(t);
        if (next === undefined) continue;
        updates.push(t);
        const s = sparsityAt(spec, t);
        let keptTotal = 0;
        let prevTotal = 0;
        for (const l of layers) {
          const m = next.get(l.name) as Mask;
          const p = prev.get(l.name) as Mask;
          for (let j = 0; j < m.length; j++)
            assert.ok(!(m[j] === 1 && p[j] === 0), `${l.name}[${j}] came back at step ${t}`);
          if (granularity === 'layer')
            assert.equal(
              count(m),
              Math.min(rounded(1 - s, l.paramCount), count(p)),
              `${l.name} at step ${t}`,
            );
          keptTotal += count(m);
          prevTotal += count(p);
        }
        if (granularity === 'global') {
          const budget = rounded(
            layers.reduce((a, l) => a + (1 - s) * l.paramCount, 0),
            1,
          );
          assert.equal(keptTotal, Math.min(budget, prevTotal), `total at step ${t}`);
        }
        // The kept ones are the largest |w| among those still kept (over the group).
        const groups = granularity === 'layer' ? layers.map((l) => [l]) : [layers];
        for (const group of groups) {
          let minKept = Infinity;
          let maxDropped = -Infinity;
          for (const l of group) {
            const m = next.get(l.name) as Mask;
            const p = prev.get(l.name) as Mask;
            const w = weights.get(l.name) as Float32Array;
            for (let j = 0; j < m.length; j++) {
              const a = Math.abs(w[j] as number);
              if (m[j] === 1) minKept = Math.min(minKept, a);
              else if (p[j] === 1) maxDropped = Math.max(maxDropped, a);
            }
          }
          assert.ok(minKept >= maxDropped, `step ${t}: kept ${minKept} < dropped ${maxDropped}`);
        }
        prev = new Map([...next].map(([k, v]) => [k, Uint8Array.from(v)]));
      }
      assert.deepEqual(updates, [2, 5, 8, 11, 12]);
      const final = g.current();
      if (granularity === 'layer') {
        for (const l of layers)
          assert.equal(count(final.get(l.name) as Mask), rounded(0.1, l.paramCount));
      } else {
        const all = layers.reduce((a, l) => a + count(final.get(l.name) as Mask), 0);
        assert.equal(
          all,
          rounded(
            0.1,
            layers.reduce((a, l) => a + l.paramCount, 0),
          ),
        );
      }
      assert.deepEqual(
        g.history.map((h) => h.step),
        [2, 5, 8, 11, 12],
      );
      tfModel.dispose();
    });
  }
});
