// A run killed with SIGKILL leaves a record that says so (summary.json written at the start with
// status `running` and the run's pid), and compare skips such a record with a warning instead of
// failing on its missing results.
import { strict as assert } from 'node:assert';
import { existsSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { collectReportData } from '../../src/report/collect.js';
import { recordState, type SummaryJson } from '../../src/engine/run-status-file.js';
import { tempDir } from '../helpers/paths.js';
import {
  readJson,
  runCli,
  runDirOf,
  startCli,
  waitFor,
  slowChain,
  slowStarted,
  writeRecipe,
} from '../cli/cli-helpers.js';

const stages = slowChain(20000); // a ─▶ slow ─▶ c

describe('run record: a run killed with SIGKILL', function () {
  this.timeout(60000);
  const dirs: string[] = [];
  after(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));

  it('keeps status running with a dead pid; compare skips it with a warning', async () => {
    const dir = tempDir('scalpel-killed-');
    dirs.push(dir);
    const killedDir = join(dir, 'killed-run');
    const recipe = writeRecipe(dir, stages);
    const run = startCli(['run', recipe, '--out', killedDir], dir);
    await waitFor(slowStarted(dir), 30000, 'the slow stage to start');

    // While it runs, the record already says so, with the process doing it.
    const during = readJson<SummaryJson>(join(killedDir, 'summary.json'));
    assert.equal(during.status, 'running');
    assert.equal(during.pid, run.child.pid);
    assert.deepEqual(
      during.nodes.map((n) => `${n.id}:${n.status}`),
      ['a:ran', 'slow:pending', 'c:pending'],
    );
    assert.deepEqual(recordState(killedDir), { state: 'running', pid: run.child.pid });

    run.child.kill('SIGKILL');
    assert.equal((await run.done).signal, 'SIGKILL');
    const after = readJson<SummaryJson>(join(killedDir, 'summary.json'));
    assert.equal(after.status, 'running', 'nobody wrote an end');
    assert.ok(!existsSync(join(killedDir, 'metrics.json')), 'no results');
    assert.deepEqual(recordState(killedDir), { state: 'killed', pid: run.child.pid });

    // A finished run with a real evaluation (a tiny classifier on a csv), to compare with.
    const csv = 'label,x,y\n0,0,1\n1,1,0\n0,0.1,0.9\n1,0.9,0.2\n';
    writeFileSync(join(dir, 'train.csv'), csv);
    writeFileSync(join(dir, 'test.csv'), csv);
    const okRecipe = writeRecipe(
      dir,
      {
        data: {
          uses: 'load-dataset',
          with: { source: 'csv', files: { train: 'train.csv', test: 'test.csv' }, pixels: false },
        },
        model: {
          uses: 'train',
          needs: ['data'],
          with: {
            epochs: 1,
            batchSize: 4,
            model: { input: [2], layers: [{ type: 'dense', units: 2 }] },
          },
        },
        eval: { uses: 'evaluate', needs: ['model', 'data'], with: { metrics: ['accuracy'] } },
      },
      { file: 'ok.yaml' },
    );
    const ok = await runCli(['run', okRecipe], dir);
    assert.equal(ok.code, 0, ok.stderr);
    const okDir = runDirOf(ok, dir);
    assert.equal(readJson<SummaryJson>(join(okDir, 'summary.json')).status, 'ok');
    assert.deepEqual(recordState(okDir), { state: 'finished', status: 'ok' });

    const warnings: string[] = [];
    const data = collectReportData([killedDir, okDir], { warn: (m) => warnings.push(m) });
    assert.deepEqual(
      data.sources.map((s) => s.dir),
      [okDir],
    );
    assert.equal(data.rows.length, 1, 'the finished run’s evaluation');
    assert.equal(warnings.length, 1);
    assert.match(warnings[0] ?? '', /skipping run .*killed-run: it did not finish/);

    // The CLI: exit 0, the finished run's row, the warning on stderr.
    const cmp = await runCli(['compare', killedDir, okDir, '--format', 'json'], dir);
    assert.equal(cmp.code, 0, cmp.stderr);
    assert.ok(cmp.stdout.includes('accuracy'), cmp.stdout);
    assert.match(cmp.stderr, /warning: skipping run .*killed-run: it did not finish/);
  });
});
