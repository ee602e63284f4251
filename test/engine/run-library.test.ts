// runRecipe / planRecipe in-process (the library entry point), with the engine test plugin.
import { strict as assert } from 'node:assert';
import { readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { planRecipe, runRecipe } from '../../src/index.js';
import { Terminal } from '../../src/engine/terminal.js';
import { progressLine, formatDuration } from '../../src/engine/progress.js';
import { Rng } from '../../src/util/rng.js';
import { tempDir } from '../helpers/paths.js';
import { writeRecipe } from '../cli/cli-helpers.js';

/** A non-TTY terminal collecting what would go to stderr. */
function captureTerminal(): { terminal: Terminal; text: () => string } {
  let text = '';
  const stream = new Writable({
    write(chunk: Buffer, _enc, cb) {
      text += chunk.toString();
      cb();
    },
  }) as unknown as NodeJS.WriteStream;
  return { terminal: new Terminal(stream, false), text: () => text };
}

describe('engine library: planRecipe / runRecipe', function () {
  this.timeout(60000);
  let dir: string;
  before(() => {
    dir = tempDir('scalpel-lib-');
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('gives stages the recipe seed, or their own with.seed, and a generator seeded with it', async () => {
    const recipe = writeRecipe(
      dir,
      {
        plain: { uses: 'count', with: { value: 1 } },
        own: { uses: 'count', with: { value: 1, seed: 99 } },
        slow: { uses: 'count', needs: ['plain', 'own'], with: { sleepMs: 200 } },
      },
      { seed: 5 },
    );
    const plan = await planRecipe(recipe, { cwd: dir });
    assert.deepEqual(
      plan.nodes.map((n) => [n.id, n.seed, n.plugin, n.cached]),
      [
        ['plain', 5, 'engine-test', false],
        ['own', 99, 'engine-test', false],
        ['slow', 5, 'engine-test', false],
      ],
    );
    assert.notEqual(plan.nodes[0]?.hash, plan.nodes[1]?.hash, 'the seed is part of the hash');

    const { terminal, text } = captureTerminal();
    const summary = await runRecipe(recipe, { cwd: dir, terminal });
    assert.equal(summary.status, 'ok');
    assert.equal(summary.exitCode, 0);
    assert.deepEqual(
      summary.nodes.map((n) => n.status),
      ['ran', 'ran', 'ran'],
    );
    const events = readFileSync(join(summary.dir, 'events.jsonl'), 'utf8')
      .trim()
      .split('\n')
      .map(
        (l) =>
          JSON.parse(l) as { record?: string; stageId?: string; data?: Record<string, number> },
      );
    const counted = new Map(
      events.filter((e) => e.record === 'event').map((e) => [e.stageId, e.data]),
    );
    assert.deepEqual(counted.get('plain'), { value: 1, seed: 5, draw: new Rng(5).nextUint32() });
    assert.deepEqual(counted.get('own'), { value: 1, seed: 99, draw: new Rng(99).nextUint32() });
    // Progress: plain lines on a non-TTY console (the final one always), records in events.jsonl.
    assert.match(text(), /^slow sleep: 10\/10 \(100%\) slice=9$/m);
    const progress = events.filter((e) => e.record === 'progress' && e.stageId === 'slow');
    assert.ok(progress.length >= 2 && progress.length <= 11, `${progress.length} progress records`);
    assert.equal(progress.at(-1)?.data?.['done'], 10);
  });

  it('reports an already aborted signal as an interrupted run without running anything', async () => {
    const recipe = writeRecipe(
      dir,
      { x: { uses: 'count', with: { value: 123 } } },
      { file: 'aborted.yaml' },
    );
    const ac = new AbortController();
    ac.abort();
    const { terminal } = captureTerminal();
    const summary = await runRecipe(recipe, { cwd: dir, terminal, signal: ac.signal });
    assert.equal(summary.status, 'interrupted');
    assert.equal(summary.exitCode, 130);
    assert.deepEqual(
      summary.nodes.map((n) => [n.status, n.skippedBecause]),
      [['skipped', 'interrupted']],
    );
  });

  it('formats progress lines and durations', () => {
    // 120 of 300 after 48 s: 180 left at 2.5 per second → 72 s.
    assert.equal(
      progressLine('prune', 120, 300, 48000, { dL: -0.02 }),
      'prune: 120/300 (40%) ETA 1m12s dL=-0.02',
    );
    assert.equal(progressLine('x', 0, 10, 5, {}), 'x: 0/10 (0%)');
    assert.equal(formatDuration(1234), '1.2s');
    assert.equal(formatDuration(45_000), '45s');
    assert.equal(formatDuration(2 * 3600_000 + 3 * 60_000), '2h03m');
  });
});
