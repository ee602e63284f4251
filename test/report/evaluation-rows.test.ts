// Which stages count as evaluations in compare/report: those reporting accuracy or loss, never
// loading, calibration, export or pruning stages (which report numbers too).
import { strict as assert } from 'node:assert';
import { isEvaluationMetrics } from '../../src/report/collect.js';

describe('report: evaluation rows', () => {
  it('accepts evaluate-style metrics and rejects other stages', () => {
    assert.equal(isEvaluationMetrics({ accuracy: 0.9, loss: 0.3, sparsity: 0.9 }), true);
    assert.equal(isEvaluationMetrics({ loss: 3.1 }), true);
    assert.equal(isEvaluationMetrics({ totalParams: 669706, prunableParams: 668672 }), false); // load-model
    assert.equal(isEvaluationMetrics({ samples: 256, layers: [] }), false); // calibrate
    assert.equal(isEvaluationMetrics({ tfjsBytes: 2680000, sparseBytes: 360000 }), false); // export
    assert.equal(isEvaluationMetrics({ method: 'icbs', density: 0.1, loss: 0.2 }), false); // prune
    assert.equal(isEvaluationMetrics(undefined), false);
  });
});
