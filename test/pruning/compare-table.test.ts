import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { compareTableStage } from '../../src/stages/compare-table.js';
import { artifactFrom, runStage } from '../helpers/stage-context.js';
import { tempDir } from '../helpers/paths.js';

describe('compare-table stage', () => {
  it('pairs prune and evaluate metrics into Markdown and JSON', async () => {
    const prune = (id: string, method: string, density: number, timeMs: number) =>
      artifactFrom('model', tempDir(), { stageId: id, metrics: { method, density, timeMs } });
    const evals = (id: string, accuracy: number, loss: number) =>
      artifactFrom('metrics', tempDir(), { stageId: id, metrics: { accuracy, loss } });
    const { ctx, result } = await runStage(
      compareTableStage,
      {
        rows: [
          { prune: 'p-mag', eval: 'e-mag' },
          { label: 'sparsegpt', prune: 'p-sg', eval: 'e-sg' },
        ],
      },
      {
        inputs: [
          prune('p-mag', 'magnitude', 0.1, 1234),
          evals('e-mag', 0.5123, 1.5),
          prune('p-sg', 'sparsegpt', 0.1, 20),
          evals('e-sg', 0.8, 0.6),
        ],
      },
    );
    const md = readFileSync(join(ctx.outDir, 'table.md'), 'utf8');
    assert.match(md, /\| magnitude \| 0\.100 \| 51\.23% \| 1\.5000 \| 1\.23 s \|/);
    assert.match(md, /\| sparsegpt \| 0\.100 \| 80\.00% \| 0\.6000 \| 0\.02 s \|/);
    const json = JSON.parse(readFileSync(join(ctx.outDir, 'table.json'), 'utf8')) as {
      rows: { accuracy: number }[];
    };
    assert.deepEqual(
      json.rows.map((r) => r.accuracy),
      [0.5123, 0.8],
    );
    assert.equal(result.kind, 'metrics');
    await assert.rejects(
      runStage(compareTableStage, { rows: [{ prune: 'nope', eval: 'e' }] }),
      /not in its `needs`/,
    );
  });
});
