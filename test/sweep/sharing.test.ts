// One DAG for all trials: a stage shared by several trials (same hash) runs once — in process
// (--jobs 1) and in worker processes (--jobs 2). The toy stages append to a counter file each time
// they really run.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { runSweep } from '../../src/sweep/sweep-run.js';
import { parseTrialsJsonl } from '../../src/sweep/sweep-record.js';
import { counterLines, toyProject } from './helpers.js';

function countBy(lines: string[], type: string): number {
  return lines.filter((l) => l.startsWith(`${type} `)).length;
}

describe('sweep: shared stages run once', function () {
  this.timeout(120_000);

  it('repeats varying a stage seed share everything upstream of it (jobs 1)', async () => {
    const { dir, recipe } = toyProject((y) =>
      y.replace('  repeats: 2', '  repeats: 2\n  seedPath: stages.prune-rand.with.seed'),
    );
    const s = await runSweep(recipe, { cwd: dir, quiet: true });
    assert.equal(s.status, 'ok');
    assert.equal(s.trials.ok, 6);
    const lines = counterLines(dir);
    // 6 trials = 3 densities × 2 repeats; only prune-rand depends on the repeat seed.
    assert.equal(countBy(lines, 'toy-model'), 1, lines.join('\n'));
    assert.equal(countBy(lines, 'toy-prune'), 3 + 3 + 6);
    assert.equal(countBy(lines, 'toy-eval'), 1 + 3 + 3 + 6);
    assert.equal(s.nodes.total, lines.length);
    assert.ok(
      lines.every((l) => Number(l.split(' ')[3]) === process.pid),
      'jobs 1 runs stages in process',
    );
    const trials = parseTrialsJsonl(readFileSync(join(s.dir, 'trials.jsonl'), 'utf8'));
    assert.equal(trials.length, 6);
    assert.equal(new Set(trials.map((t) => t.nodes['model']?.hash)).size, 1);
    assert.equal(new Set(trials.map((t) => t.nodes['prune-rand']?.hash)).size, 6);
    assert.deepEqual(trials.map((t) => t.seed).sort(), [11, 11, 11, 12, 12, 12]);
    for (const t of trials) assert.equal(t.nodes['prune-rand']?.params['seed'] ?? 11, t.seed);

    // The same command again: a new, complete sweep straight from the cache.
    const again = await runSweep(recipe, { cwd: dir, quiet: true });
    assert.notEqual(again.dir, s.dir);
    assert.equal(again.nodes.ran, 0);
    assert.equal(again.nodes.cached, s.nodes.total);
    assert.equal(counterLines(dir).length, lines.length);
  });

  it('worker processes (jobs 2) run each distinct node once', async () => {
    const { dir, recipe } = toyProject();
    const s = await runSweep(recipe, { cwd: dir, quiet: true, jobs: 2 });
    assert.equal(s.status, 'ok');
    const lines = counterLines(dir);
    // The recipe seed varies per repeat, so the model runs once per seed, not once per trial.
    assert.equal(countBy(lines, 'toy-model'), 2);
    assert.equal(countBy(lines, 'toy-prune'), 3 * 3 * 2);
    assert.equal(countBy(lines, 'toy-eval'), 2 + 3 * 3 * 2);
    // The stages ran in worker processes, not in the sweep's own process.
    const pids = new Set(lines.map((l) => Number(l.split(' ')[3])));
    assert.ok(!pids.has(process.pid), 'a stage ran in the sweep process');
    assert.ok(pids.size >= 1 && pids.size <= 2, `pids: ${[...pids].join(',')}`);
    const results = JSON.parse(readFileSync(join(s.dir, 'results.json'), 'utf8')) as {
      rows: Record<string, unknown>[];
    };
    assert.equal(results.rows.length, 6);
    for (const row of results.rows) assert.equal(typeof row['eval-mag.accuracy'], 'number');
  });
});
