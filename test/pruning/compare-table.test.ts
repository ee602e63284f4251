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
    assert.deepEqual(
      json.rows.map((r) => (r as { pattern?: unknown }).pattern),
      [null, null],
    );
    await assert.rejects(
      runStage(compareTableStage, { rows: [{ prune: 'nope', eval: 'e' }] }),
      /not in its `needs`/,
    );
  });

  it('an N:M row shows its pattern beside the density', async () => {
    const { ctx } = await runStage(
      compareTableStage,
      { rows: [{ prune: 'p', eval: 'e' }] },
      {
        inputs: [
          artifactFrom('model', tempDir(), {
            stageId: 'p',
            metrics: { method: 'sparsegpt', density: 0.5, pattern: '2:4', timeMs: 10 },
          }),
          artifactFrom('metrics', tempDir(), { stageId: 'e', metrics: { accuracy: 0.8, loss: 1 } }),
        ],
      },
    );
    const md = readFileSync(join(ctx.outDir, 'table.md'), 'utf8');
    assert.match(md, /\| sparsegpt \| 0\.500 \(2:4\) \| 80\.00% \|/);
    const json = JSON.parse(readFileSync(join(ctx.outDir, 'table.json'), 'utf8')) as {
      rows: { pattern: unknown }[];
    };
    assert.equal(json.rows[0]?.pattern, '2:4');
  });

  it('language models: perplexity, loss and one column per zero-shot task', async () => {
    const prune = (id: string, method: string, density: number, timeMs: number) =>
      artifactFrom('model', tempDir(), { stageId: id, metrics: { method, density, timeMs } });
    const evals = (id: string, perplexity: number, lambada: number, ns: number) =>
      artifactFrom('metrics', tempDir(), {
        stageId: id,
        metrics: {
          perplexity,
          loss: Math.log(perplexity),
          zeroShot: { 'lambada-style': { acc: lambada, count: 200 }, 'next-sentence': { acc: ns } },
        },
      });
    const { ctx } = await runStage(
      compareTableStage,
      {
        rows: [
          { label: 'wanda 2:4', prune: 'p-w', eval: 'e-w' },
          { label: 'icbs', prune: 'p-i', eval: 'e-i' },
        ],
      },
      {
        inputs: [
          prune('p-w', 'wanda', 0.5, 700),
          evals('e-w', 120.5, 0.47, 0.235),
          prune('p-i', 'icbs', 0.5, 400000),
          evals('e-i', 95.25, 0.5, 0.25),
        ],
      },
    );
    const md = readFileSync(join(ctx.outDir, 'table.md'), 'utf8');
    assert.match(
      md,
      /\| method \| density \| perplexity ↓ \| loss ↓ \| lambada-style acc ↑ \| next-sentence acc ↑ \| time \|/,
    );
    assert.match(
      md,
      /\| wanda 2:4 \| 0\.500 \| 120\.50 \| 4\.7916 \| 47\.0% \| 23\.5% \| 0\.70 s \|/,
    );
    assert.match(md, /\| icbs \| 0\.500 \| 95\.25 \| 4\.5565 \| 50\.0% \| 25\.0% \| 400\.00 s \|/);
    assert.doesNotMatch(md, /accuracy/, 'no classifier accuracy column for LMs');
  });

  it('a fine-tune row: time is pruning + fine-tuning, label icbs + finetune', async () => {
    const { ctx } = await runStage(
      compareTableStage,
      {
        rows: [
          { prune: 'p-i', eval: 'e-i' },
          { prune: 'p-i', after: ['ft'], eval: 'e-ft' },
          { prune: 'p-i', after: ['ft-old'], eval: 'e-ft' },
        ],
      },
      {
        inputs: [
          artifactFrom('model', tempDir(), {
            stageId: 'p-i',
            metrics: { method: 'icbs', density: 0.1, timeMs: 12_500 },
          }),
          artifactFrom('model', tempDir(), {
            stageId: 'ft',
            stageType: 'finetune',
            metrics: { epochs: 1, timeMs: 3_250 },
          }),
          // A cache entry from before finetune reported its time: unknown, not the pruning time.
          artifactFrom('model', tempDir(), {
            stageId: 'ft-old',
            stageType: 'finetune',
            metrics: {},
          }),
          artifactFrom('metrics', tempDir(), {
            stageId: 'e-i',
            metrics: { accuracy: 0.8, loss: 0.6 },
          }),
          artifactFrom('metrics', tempDir(), {
            stageId: 'e-ft',
            metrics: { accuracy: 0.85, loss: 0.5 },
          }),
        ],
      },
    );
    const md = readFileSync(join(ctx.outDir, 'table.md'), 'utf8');
    assert.match(md, /\| method \| density \| accuracy ↑ \| loss ↓ \| time \|/);
    assert.match(md, /\| icbs \| 0\.100 \| 80\.00% \| 0\.6000 \| 12\.50 s \|/);
    // 12.5 s + 3.25 s
    assert.match(md, /\| icbs \+ finetune \| 0\.100 \| 85\.00% \| 0\.5000 \| 15\.75 s \|/);
    assert.match(md, /\| icbs \+ finetune \| 0\.100 \| 85\.00% \| 0\.5000 \| — \|/);
    const json = JSON.parse(readFileSync(join(ctx.outDir, 'table.json'), 'utf8')) as {
      rows: { timeSeconds: number | null; pruneSeconds: number | null }[];
    };
    assert.deepEqual(
      json.rows.map((r) => [r.pruneSeconds, r.timeSeconds]),
      [
        [12.5, 12.5],
        [12.5, 15.75],
        [12.5, null],
      ],
    );
    await assert.rejects(
      runStage(
        compareTableStage,
        { rows: [{ prune: 'p', after: ['x'], eval: 'e' }] },
        {
          inputs: [artifactFrom('model', tempDir(), { stageId: 'p', metrics: {} })],
        },
      ),
      /rows\.after names 'x'/,
    );
  });
});
