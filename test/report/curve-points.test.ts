// The quality curve is found wherever an iterative pruner reports it: `curve` at the top of the
// prune stage's metrics, or under the pruner's own key (iCBS reports `icbs.curve`).
import { strict as assert } from 'node:assert';
import { curvePoints } from '../../src/report/curve-chart.js';
import { compareTable, defaultMetric } from '../../src/report/compare.js';
import type { EvalRow } from '../../src/report/collect.js';
import type { Lineage } from '../../src/report/lineage.js';

/** A hand-made row's lineage: one prune stage of this method (so methods are configurations). */
function lineage(method: string, density: number): Lineage {
  return {
    key: `${method}@${density}`,
    params: { 'prune.method': method, 'prune.density': density },
    prefixes: { [`prune-${method}`]: 'prune' },
  };
}

function row(method: string, pruneMetrics: Record<string, unknown>, seed = 1): EvalRow {
  return {
    source: 'run',
    trial: undefined,
    seed,
    evalStage: `eval-${method}`,
    pruneStage: `prune-${method}`,
    method,
    name: method,
    lineage: lineage(method, 0.1),
    pruneLineage: lineage(method, 0.1),
    density: 0.1,
    metrics: { accuracy: 0.5 },
    pruneMetrics,
    parameters: {},
  };
}

const curve = [
  { step: 0, elapsedMs: 0, accuracy: 0.5 },
  { step: 25, elapsedMs: 2000, accuracy: 0.8 },
];

describe('report: iterative pruning curves', () => {
  it('reads icbs.curve (the built-in iCBS metrics) and a top-level curve (plugins)', () => {
    const c = curvePoints(
      [
        row('icbs', { method: 'icbs', density: 0.1, icbs: { curve } }),
        row('mine', { method: 'mine', density: 0.1, curve }),
        row('magnitude', { method: 'magnitude', density: 0.1 }),
      ],
      'accuracy',
    );
    assert.ok(c !== undefined);
    assert.equal(c.metric, 'accuracy');
    assert.deepEqual(
      c.points.map((p) => [p.method, p.step, p.elapsedS, p.value]),
      [
        ['icbs', 0, 0, 0.5],
        ['icbs', 25, 2, 0.8],
        ['mine', 0, 0, 0.5],
        ['mine', 25, 2, 0.8],
      ],
    );
  });

  it('no curve anywhere: no chart', () => {
    assert.equal(
      curvePoints([row('magnitude', { method: 'magnitude', density: 0.1 })], 'accuracy'),
      undefined,
    );
  });
});

describe('report: language-model evaluations', () => {
  const lm = (method: string, density: number, perplexity: number, seed = 1): EvalRow => ({
    source: 'sweep',
    trial: seed,
    seed,
    evalStage: `eval-${method}`,
    pruneStage: `prune-${method}`,
    method,
    name: method,
    lineage: lineage(method, density),
    pruneLineage: lineage(method, density),
    density,
    metrics: { perplexity, loss: Math.log(perplexity) },
    pruneMetrics: {
      method,
      density,
      icbs: {
        curve: [
          { step: 0, elapsedMs: 0, perplexity: 120, loss: Math.log(120) },
          { step: 16, elapsedMs: 4000, perplexity: perplexity, loss: Math.log(perplexity) },
        ],
      },
    },
    parameters: {},
  });

  it('compare defaults to perplexity, lower is better: the lowest mean is marked best', () => {
    const rows = [
      lm('wanda', 0.5, 110, 1),
      lm('wanda', 0.5, 114, 2),
      lm('icbs', 0.5, 101, 1),
      lm('icbs', 0.5, 99, 2),
    ];
    assert.equal(defaultMetric(rows), 'perplexity');
    const t = compareTable(rows);
    assert.equal(t.metric, 'perplexity');
    assert.equal(t.higherIsBetter, false);
    const best = t.rows.filter((r) => r.best).map((r) => [r.method, r.mean]);
    assert.deepEqual(best, [['icbs', 100]]);
    // and the iCBS curve is drawn in perplexity
    const c = curvePoints(rows, 'perplexity');
    assert.equal(c?.metric, 'perplexity');
    assert.deepEqual(
      c?.points.filter((p) => p.seed === 2).map((p) => [p.step, p.value]),
      [
        [0, 120],
        [16, 99],
      ],
    );
  });

  it('classifier rows keep accuracy as the default metric', () => {
    assert.equal(defaultMetric([row('icbs', {})]), 'accuracy');
  });
});
