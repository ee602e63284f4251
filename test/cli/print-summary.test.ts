// The end-of-run table shows each stage's headline numbers (accuracy and loss of evaluations,
// method and density of pruning stages), so a --quiet run still tells the result.
import { strict as assert } from 'node:assert';
import { renderSummary } from '../../src/cli/print-summary.js';
import type { RunSummary } from '../../src/engine/run.js';

describe('run summary table', () => {
  it('shows accuracy/loss for evaluations and density for pruning stages', () => {
    const summary: RunSummary = {
      status: 'ok',
      exitCode: 0,
      dir: '/tmp/run',
      startedAt: '',
      finishedAt: '',
      durationMs: 1000,
      backend: { name: 'wasm', versions: {} },
      nodes: [
        {
          id: 'model',
          uses: 'load-model',
          hash: 'a',
          status: 'cached',
          durationMs: 0,
          metrics: { totalParams: 10 },
        },
        {
          id: 'prune',
          uses: 'icbs',
          hash: 'b',
          status: 'ran',
          durationMs: 5,
          metrics: { method: 'icbs', density: 0.1 },
        },
        {
          id: 'eval',
          uses: 'evaluate',
          hash: 'c',
          status: 'ran',
          durationMs: 5,
          metrics: { accuracy: 0.87644, loss: 0.34871 },
        },
      ],
    };
    const lines = renderSummary(summary, { debug: false }).split('\n');
    const row = (id: string): string => lines.find((l) => l.startsWith(id + ' ')) ?? '';
    assert.match(row('eval'), /accuracy 87\.64%, loss 0\.3487$/);
    assert.match(row('prune'), /icbs, density 10\.00%$/);
    assert.match(row('model'), /cached\s*$/);
  });
});
