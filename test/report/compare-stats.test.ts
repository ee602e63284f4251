// The compare table's statistics against an independent computation from the raw trials.jsonl:
// group evaluations by (method, density) by hand, mean and sample standard deviation (n − 1) in
// plain float64 loops. Also: the CLI's JSON output is the same table, and a single run directory
// with several prune→eval branches compares too.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { runSweep } from '../../src/sweep/sweep-run.js';
import { runRecipe } from '../../src/engine/run.js';
import { parseTrialsJsonl } from '../../src/sweep/sweep-record.js';
import { collectReportData } from '../../src/report/collect.js';
import { compareTable } from '../../src/report/compare.js';
import { cliPath } from '../helpers/paths.js';
import { toyProject } from '../sweep/helpers.js';

interface Group {
  values: number[];
}

function independentStats(
  trialsFile: string,
  metric: string,
): Map<string, { n: number; mean: number; std: number | undefined }> {
  const groups = new Map<string, Group>();
  const seen = new Set<string>();
  for (const t of parseTrialsJsonl(readFileSync(trialsFile, 'utf8'))) {
    for (const [id, node] of Object.entries(t.nodes)) {
      if (node.uses !== 'toy-eval' || seen.has(node.hash)) continue;
      seen.add(node.hash);
      const prune = node.needs[0] !== undefined ? t.nodes[node.needs[0]] : undefined;
      const isPrune = prune?.uses === 'toy-prune';
      const method = isPrune
        ? String((t.metrics[node.needs[0]!] as { method: string }).method)
        : 'dense';
      const density = isPrune ? (t.parameters['density'] as number) : 1;
      const value = (t.metrics[id] as Record<string, number>)[metric]!;
      const key = `${method}@${density}`;
      const g = groups.get(key) ?? { values: [] };
      g.values.push(value);
      groups.set(key, g);
    }
  }
  const out = new Map<string, { n: number; mean: number; std: number | undefined }>();
  for (const [k, g] of groups) {
    let sum = 0;
    for (const v of g.values) sum += v;
    const mean = sum / g.values.length;
    let ss = 0;
    for (const v of g.values) ss += (v - mean) * (v - mean);
    out.set(k, {
      n: g.values.length,
      mean,
      std: g.values.length > 1 ? Math.sqrt(ss / (g.values.length - 1)) : undefined,
    });
  }
  return out;
}

describe('compare: statistics', function () {
  this.timeout(120_000);

  it('equal an independent computation from trials.jsonl', async () => {
    const { dir, recipe } = toyProject((y) => y.replace('repeats: 2', 'repeats: 3'));
    const s = await runSweep(recipe, { cwd: dir, quiet: true });
    assert.equal(s.trials.ok, 9);
    for (const metric of ['accuracy', 'loss']) {
      const expected = independentStats(join(s.dir, 'trials.jsonl'), metric);
      const table = compareTable(collectReportData([s.dir]).rows, { metric });
      assert.equal(table.rows.length, expected.size);
      assert.equal(expected.size, 3 * 3 + 1);
      for (const r of table.rows) {
        const e = expected.get(`${r.method}@${r.density}`);
        assert.ok(e !== undefined, `unexpected group ${r.method}@${r.density}`);
        assert.equal(r.n, e.n);
        assert.ok(Math.abs(r.mean - e.mean) < 1e-12, `${metric} mean ${r.method}@${r.density}`);
        if (e.std === undefined) assert.equal(r.std, undefined);
        else
          assert.ok(
            r.std !== undefined && Math.abs(r.std - e.std) < 1e-12,
            `${metric} std ${r.method}@${r.density}: ${r.std} vs ${e.std}`,
          );
      }
      // Pruned groups have 3 seeds each; the dense evaluation differs per seed (the model does).
      assert.ok(
        table.rows.filter((r) => r.method !== 'dense').every((r) => r.n === 3 && (r.std ?? 0) > 0),
      );
      // Best and delta follow from the means.
      for (const d of table.densities) {
        const here = table.rows.filter((r) => r.density === d);
        const means = here.map((r) => r.mean);
        const best = metric === 'loss' ? Math.min(...means) : Math.max(...means);
        if (here.length > 1)
          assert.deepEqual(
            here.filter((r) => r.best).map((r) => r.mean),
            here.filter((r) => r.mean === best).map((r) => r.mean),
          );
        const base = here.find((r) => r.method === 'magnitude');
        for (const r of here)
          if (base !== undefined)
            assert.ok(Math.abs((r.delta ?? NaN) - (r.mean - base.mean)) < 1e-15);
      }
      const rand = table.rows.find((r) => r.method === 'random' && r.density === 0.1);
      assert.equal(rand?.best, false, 'random pruning is never the best here');
    }
    const cli = spawnSync(
      process.execPath,
      [cliPath, 'compare', s.dir, '--format', 'json', '--metric', 'accuracy'],
      { encoding: 'utf8' },
    );
    assert.equal(cli.status, 0, cli.stderr);
    const json = JSON.parse(cli.stdout) as {
      rows: { method: string; density: number; mean: number; std: number | null; n: number }[];
    };
    const lib = compareTable(collectReportData([s.dir]).rows, { metric: 'accuracy' });
    assert.deepEqual(
      json.rows.map((r) => [r.method, r.density, r.n, r.mean, r.std]),
      lib.rows.map((r) => [r.method, r.density, r.n, r.mean, r.std ?? null]),
    );
  });

  it('works on a single run with several prune → eval branches', async () => {
    const { dir, recipe } = toyProject((y) => y.replace(/^sweep:[\s\S]*$/m, ''));
    const run = await runRecipe(recipe, { cwd: dir, quiet: true });
    assert.equal(run.status, 'ok');
    const table = compareTable(collectReportData([run.dir]).rows, {});
    // Ranked within each density (stepwise keeps the largest weights too: a tie with magnitude).
    assert.deepEqual(
      table.rows.map((r) => `${r.method}@${r.density}:${r.n}:${r.rank}`),
      ['magnitude@0.5:1:1', 'stepwise@0.5:1:1', 'random@0.5:1:3', 'dense@1:1:1'],
    );
    const metrics = JSON.parse(readFileSync(join(run.dir, 'metrics.json'), 'utf8')) as Record<
      string,
      { accuracy: number }
    >;
    assert.equal(table.rows[2]?.mean, metrics['eval-rand']?.accuracy);
    assert.equal(table.rows[2]?.std, undefined);
    const md = spawnSync(process.execPath, [cliPath, 'compare', run.dir, '-f', 'md'], {
      encoding: 'utf8',
    });
    assert.equal(md.status, 0, md.stderr);
    assert.match(md.stdout, /\| 0\.5 \| magnitude \| \*\*\d\.\d{4}\*\* \| 1 \|/);
    const bad = spawnSync(process.execPath, [cliPath, 'compare', run.dir, '--metric', 'acuracy'], {
      encoding: 'utf8',
    });
    assert.equal(bad.status, 2);
    assert.match(bad.stderr, /did you mean 'accuracy'/);
  });
});
