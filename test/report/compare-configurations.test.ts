// A compare row is one configuration — the evaluated model's whole lineage — with seeds as the
// only repeats. The two cases users met, as real sweep records of the toy stages:
//  - a pruned model and the same model fine-tuned were averaged into one row;
//  - a sweep over two pruner parameters with one seed pooled all its trials into one row (n=4).
// Expected groups, n, means and standard deviations are computed here from trials.jsonl by
// walking each evaluation's `needs` by hand, in plain float64 loops.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { copyFileSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ScalpelError } from '../../src/errors.js';
import { runSweep } from '../../src/sweep/sweep-run.js';
import { parseTrialsJsonl, type TrialRecord } from '../../src/sweep/sweep-record.js';
import { collectReportData } from '../../src/report/collect.js';
import { compareTable } from '../../src/report/compare.js';
import { curvePoints, curveSpec } from '../../src/report/curve-chart.js';
import { formatCompare } from '../../src/report/format-compare.js';
import { cliPath, repoRoot } from '../helpers/paths.js';
import { toyProject, withSweep } from '../sweep/helpers.js';

const finetunePlugin = join(repoRoot, 'test', 'report', 'fixtures', 'toy-finetune-plugin.js');

interface Expected {
  values: number[];
  seeds: number[];
}

function meanStd(xs: readonly number[]): { mean: number; std: number | undefined } {
  let s = 0;
  for (const x of xs) s += x;
  const mean = s / xs.length;
  let ss = 0;
  for (const x of xs) ss += (x - mean) * (x - mean);
  return { mean, std: xs.length > 1 ? Math.sqrt(ss / (xs.length - 1)) : undefined };
}

/** `<method>[ + toy-finetune]@<density>` for every toy-eval node, by walking needs by hand. */
function expectedGroups(trials: readonly TrialRecord[]): Map<string, Expected> {
  const out = new Map<string, Expected>();
  const seen = new Set<string>();
  for (const t of trials) {
    for (const [id, node] of Object.entries(t.nodes)) {
      if (node.uses !== 'toy-eval' || seen.has(node.hash)) continue;
      seen.add(node.hash);
      let finetuned = false;
      let up = node.needs[0];
      while (up !== undefined && t.nodes[up]?.uses === 'toy-finetune') {
        finetuned = true;
        up = t.nodes[up]?.needs[0];
      }
      const prune = up !== undefined ? t.nodes[up] : undefined;
      const name =
        prune?.uses === 'toy-prune'
          ? `${String(prune.params['method'])}${finetuned ? ' + toy-finetune' : ''}`
          : 'dense';
      const density = prune?.uses === 'toy-prune' ? Number(prune.params['density']) : 1;
      const key = `${name}@${density}`;
      const g = out.get(key) ?? { values: [], seeds: [] };
      g.values.push((t.metrics[id] as { accuracy: number }).accuracy);
      g.seeds.push(t.seed);
      out.set(key, g);
    }
  }
  return out;
}

function close(a: number | undefined, b: number | undefined, what: string): void {
  if (b === undefined) return assert.equal(a, undefined, what);
  assert.ok(a !== undefined && Math.abs(a - b) < 1e-12, `${what}: ${a} vs ${b}`);
}

describe('compare: one row per configuration', function () {
  this.timeout(120_000);

  it('keeps a fine-tuned model apart from the pruned one (the compare-one-shot case)', async () => {
    const { dir, recipe } = toyProject((y) =>
      withSweep(`
sweep:
  method: grid
  parameters:
    density:
      paths: [stages.prune-mag.with.density, stages.prune-rand.with.density, stages.prune-step.with.density]
      values: [0.3]
  repeats: 3
`)(y)
        .replace(
          'plugins: [./toy-plugin.js]',
          'plugins: [./toy-plugin.js, ./toy-finetune-plugin.js]',
        )
        .replace(
          '  eval-step: { uses: toy-eval, needs: [prune-step] }\n',
          '  eval-step: { uses: toy-eval, needs: [prune-step] }\n' +
            '  ft-step: { uses: toy-finetune, needs: [prune-step] }\n' +
            '  eval-ft: { uses: toy-eval, needs: [ft-step] }\n',
        ),
    );
    copyFileSync(finetunePlugin, join(dir, 'toy-finetune-plugin.js'));
    const s = await runSweep(recipe, { cwd: dir, quiet: true });
    assert.equal(s.trials.ok, 3);
    const trials = parseTrialsJsonl(readFileSync(join(s.dir, 'trials.jsonl'), 'utf8'));
    const expected = expectedGroups(trials);
    assert.equal(expected.get('stepwise + toy-finetune@0.3')?.values.length, 3);

    const table = compareTable(collectReportData([s.dir]).rows, { metric: 'accuracy' });
    assert.deepEqual(
      table.rows.map((r) => `${r.name}@${r.density}`).sort(),
      [...expected.keys()].sort(),
    );
    for (const r of table.rows) {
      const e = expected.get(`${r.name}@${r.density}`);
      assert.ok(e !== undefined);
      const { mean, std } = meanStd(e.values);
      assert.equal(r.n, e.values.length);
      assert.deepEqual(
        r.seeds,
        [...new Set(e.seeds)].sort((a, b) => a - b),
      );
      close(r.mean, mean, `${r.name} mean`);
      close(r.std, std, `${r.name} std`);
      assert.deepEqual(r.pooled, []);
    }
    // The fine-tuned model really is another model: pooling them would average two numbers.
    const ft = table.rows.find((r) => r.name === 'stepwise + toy-finetune');
    const plain = table.rows.find((r) => r.name === 'stepwise');
    assert.ok(ft !== undefined && plain !== undefined && Math.abs(ft.mean - plain.mean) > 0.05);
    // Nothing but the name tells them apart: no parameter column.
    assert.deepEqual(table.columns, ['density', 'name']);

    const md = spawnSync(process.execPath, [cliPath, 'compare', s.dir, '-f', 'md'], {
      encoding: 'utf8',
    });
    assert.equal(md.status, 0, md.stderr);
    assert.match(md.stdout, /\| 0\.3 \| stepwise \+ toy-finetune \| \**[\d.]+ ± [\d.]+\** \| 3 \|/);
    assert.match(md.stdout, /accuracy ↑ \(mean ± std\)/);
  });

  describe('a sweep over two pruner parameters with one seed', () => {
    let sweepDir = '';
    let trials: TrialRecord[] = [];

    before(async () => {
      const { dir, recipe } = toyProject(
        withSweep(`
sweep:
  method: grid
  parameters:
    stages.prune-step.with.steps: [2, 4]
    stages.prune-step.with.sleepMs: [0, 1]
  repeats: 1
`),
      );
      const s = await runSweep(recipe, { cwd: dir, quiet: true });
      assert.equal(s.trials.ok, 4);
      sweepDir = s.dir;
      trials = parseTrialsJsonl(readFileSync(join(s.dir, 'trials.jsonl'), 'utf8'));
    });

    const stepAccuracy = (t: TrialRecord): number =>
      (t.metrics['eval-step'] as { accuracy: number }).accuracy;

    it('gives each trial its own row (n=1), with the swept parameters as columns', () => {
      assert.equal(new Set(trials.map((t) => t.seed)).size, 1, 'every trial has the same seed');
      const table = compareTable(collectReportData([sweepDir]).rows);
      assert.deepEqual(table.columns, ['density', 'name', 'toy-prune.sleepMs', 'toy-prune.steps']);
      assert.equal(table.labels['toy-prune.steps'], 'steps');
      const step = table.rows.filter((r) => r.name === 'stepwise');
      assert.equal(step.length, 4);
      for (const t of trials) {
        const steps = t.parameters['stages.prune-step.with.steps'];
        const sleep = t.parameters['stages.prune-step.with.sleepMs'];
        const row = step.find(
          (r) => r.fields['toy-prune.steps'] === steps && r.fields['toy-prune.sleepMs'] === sleep,
        );
        assert.ok(row !== undefined, `a row for steps=${String(steps)}, sleepMs=${String(sleep)}`);
        assert.equal(row.n, 1);
        assert.equal(row.std, undefined);
        assert.equal(row.mean, stepAccuracy(t));
      }
      // The branches the sweep did not touch are one computation each (shared across trials).
      assert.equal(table.rows.find((r) => r.name === 'magnitude')?.n, 1);
      const text = formatCompare(table, 'table');
      assert.match(text, /sleepMs/);
      assert.doesNotMatch(text, /†/);
    });

    it('--group-by pools on request, and says what it pooled', () => {
      const table = compareTable(collectReportData([sweepDir]).rows, {
        groupBy: ['method', 'density'],
      });
      const step = table.rows.find((r) => r.method === 'stepwise');
      assert.ok(step !== undefined);
      assert.equal(step.n, 4);
      const { mean, std } = meanStd(trials.map(stepAccuracy));
      close(step.mean, mean, 'pooled mean');
      close(step.std, std, 'pooled std');
      assert.deepEqual(step.pooled, ['toy-prune.sleepMs', 'toy-prune.steps']);
      assert.deepEqual(table.columns, ['method', 'density']);
      assert.match(formatCompare(table, 'md'), /† pools different configurations/);
    });

    it('--filter keeps the evaluations an expression holds for', () => {
      const rows = collectReportData([sweepDir]).rows;
      const four = compareTable(rows, { filters: ['method=stepwise', 'steps=4'] });
      // steps is the same in every row left, so it is no column any more.
      assert.deepEqual(four.columns, ['density', 'name', 'toy-prune.sleepMs']);
      const kept = trials.filter((t) => t.parameters['stages.prune-step.with.steps'] === 4);
      assert.deepEqual(
        four.rows.map((r) => [r.fields['toy-prune.sleepMs'], r.mean]).sort(),
        kept.map((t) => [t.parameters['stages.prune-step.with.sleepMs'], stepAccuracy(t)]).sort(),
      );
      const slow = compareTable(rows, { filters: ['name=stepwise', 'sleepMs>0'] });
      assert.deepEqual(slow.rows.map((r) => r.fields['toy-prune.steps']).sort(), [2, 4]);
      const notDense = compareTable(rows, { filters: ['name!=dense,random'] });
      assert.deepEqual([...new Set(notDense.rows.map((r) => r.name))].sort(), [
        'magnitude',
        'stepwise',
      ]);
      assert.throws(
        () => compareTable(rows, { filters: ['stepz=4'] }),
        (e: unknown) => e instanceof ScalpelError && /did you mean 'steps'/.test(e.hint ?? ''),
      );
      assert.throws(() => compareTable(rows, { filters: ['counter=x'] }), /ambiguous/);
      assert.throws(() => compareTable(rows, { filters: ['density'] }), /<field><op><value>/);
      assert.throws(() => compareTable(rows, { filters: ['name<x'] }), /needs one number/);
      const cli = spawnSync(
        process.execPath,
        [
          cliPath,
          'compare',
          sweepDir,
          '-g',
          'method,density',
          '--filter',
          'method=stepwise',
          '-f',
          'json',
        ],
        { encoding: 'utf8' },
      );
      assert.equal(cli.status, 0, cli.stderr);
      const json = JSON.parse(cli.stdout) as { rows: { n: number; method: string }[] };
      assert.deepEqual(
        json.rows.map((r) => [r.method, r.n]),
        [['stepwise', 4]],
      );
      const bad = spawnSync(process.execPath, [cliPath, 'compare', sweepDir, '--filter', 'x'], {
        encoding: 'utf8',
      });
      assert.equal(bad.status, 2);
    });

    it('draws one iCBS-style curve per trial, coloured by configuration', () => {
      const rows = collectReportData([sweepDir]).rows;
      const c = curvePoints(rows, 'accuracy');
      assert.ok(c !== undefined);
      const byTrial = new Map<string, number>();
      for (const p of c.points) byTrial.set(p.trial, (byTrial.get(p.trial) ?? 0) + 1);
      assert.equal(byTrial.size, 4, 'four trials with one seed and density are four lines');
      // Each line has steps + 1 points (the toy pruner's curve).
      assert.deepEqual(
        [...byTrial.values()].sort(),
        trials.map((t) => Number(t.parameters['stages.prune-step.with.steps']) + 1).sort(),
      );
      assert.equal(new Set(c.points.map((p) => p.group)).size, 4);
      assert.ok(c.points.some((p) => p.group === 'stepwise · sleepMs=1 · steps=4'));
      assert.deepEqual(curveSpec(rows, 'accuracy', 'step')?.expectedMarks, { line: 4 });
    });
  });
});
