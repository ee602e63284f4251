// The quality curve is found wherever an iterative pruner reports it: `curve` at the top of the
// prune stage's metrics, or under the pruner's own key (iCBS reports `icbs.curve`).
import { strict as assert } from 'node:assert';
import { curvePoints } from '../../src/report/chart-specs.js';
import type { EvalRow } from '../../src/report/collect.js';

function row(method: string, pruneMetrics: Record<string, unknown>, seed = 1): EvalRow {
  return {
    source: 'run',
    trial: undefined,
    seed,
    evalStage: `eval-${method}`,
    pruneStage: `prune-${method}`,
    method,
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
