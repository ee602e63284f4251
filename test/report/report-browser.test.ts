// The HTML report in headless Chromium (Debian's chromium package, driven by playwright-core; no
// browser is downloaded): no console errors (the page's CSP forbids any network load, so an
// external reference would show up as one), every chart drew the marks its data calls for, and a
// screenshot is saved under test/.tmp/ for a human to look at.
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { chromium } from 'playwright-core';
import { runSweep } from '../../src/sweep/sweep-run.js';
import { writeReport } from '../../src/report/build-report.js';
import { repoRoot, tempDir } from '../helpers/paths.js';
import { toyProject } from '../sweep/helpers.js';

interface MarkCount {
  expected: Record<string, number>;
  found: Record<string, number>;
  width: number;
}

/** Runs in the page (a string: the test build has no DOM types): marks per chart, by vega mark type. */
const countMarksInPage = `(() => {
  const out = {};
  for (const fig of document.querySelectorAll('figure[data-expected-marks]')) {
    const svg = fig.querySelector('svg[data-chart]');
    if (svg === null) continue;
    const found = {};
    for (const g of svg.querySelectorAll('g.role-mark')) {
      const type = (Array.from(g.classList).find((c) => c.startsWith('mark-')) || 'mark-?').slice(5);
      found[type] = (found[type] || 0) + g.querySelectorAll(':scope > path, :scope > line').length;
    }
    out[svg.getAttribute('data-chart')] = {
      expected: JSON.parse(fig.getAttribute('data-expected-marks') || '{}'),
      found,
      width: svg.getBoundingClientRect().width,
    };
  }
  return out;
})()`;

const chromiumPath = process.env['SCALPEL_CHROMIUM'] ?? '/usr/bin/chromium';
const skip = process.env['SCALPEL_SKIP_BROWSER'] === '1';

describe('report in a browser', function () {
  this.timeout(180_000);

  it('renders every chart with the expected marks and no console errors', async function () {
    if (skip) this.skip();
    assert.ok(
      existsSync(chromiumPath),
      `Chromium not found at ${chromiumPath}: install Debian's package (apt-get install -y chromium), ` +
        'point SCALPEL_CHROMIUM at a Chromium binary, or set SCALPEL_SKIP_BROWSER=1 to skip this test',
    );
    const { dir, recipe } = toyProject();
    const sweep = await runSweep(recipe, { cwd: dir, quiet: true });
    assert.equal(sweep.status, 'ok');
    const report = await writeReport([sweep.dir]);
    const ids = report.charts.map((c) => c.id);
    assert.deepEqual(ids, ['pruning-curve', 'icbs-vs-step', 'icbs-vs-time', 'layer-density']);
    // Each chart is also a standalone SVG file.
    for (const c of report.charts)
      assert.match(readFileSync(c.file, 'utf8'), /^<\?xml[^>]*>\n<svg /);
    const html = readFileSync(report.file, 'utf8');
    assert.doesNotMatch(
      html,
      /<script|<link|https?:\/\/(?!www\.w3\.org)/i,
      'the report must not load anything',
    );

    // Expected marks from the data itself: 3 methods × 3 densities, 2 seeds each.
    const expected: Record<string, Record<string, number>> = {
      'pruning-curve': { line: 3, symbol: 9, rule: 9 },
      'icbs-vs-step': { line: 3 * 2 },
      'icbs-vs-time': { line: 3 * 2 },
      'layer-density': { rect: 3 * 3 * 2 },
    };
    for (const c of report.charts) assert.deepEqual(c.expectedMarks, expected[c.id]);

    const context = await chromium.launchPersistentContext(tempDir('scalpel-chromium-'), {
      executablePath: chromiumPath,
      headless: true,
      args: [
        '--headless',
        '--no-sandbox',
        '--disable-gpu',
        '--disable-quic',
        '--no-first-run',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
      ],
      viewport: { width: 1200, height: 900 },
    });
    try {
      const page = await context.newPage();
      const errors: string[] = [];
      page.on('console', (m) => {
        if (m.type() === 'error') errors.push(m.text());
      });
      page.on('pageerror', (e) => errors.push(String(e)));
      page.on('request', (r) => {
        if (!r.url().startsWith('file:')) errors.push(`network request: ${r.url()}`);
      });
      await page.goto(`file://${report.file}`);
      const counts = (await page.evaluate(countMarksInPage)) as Record<string, MarkCount>;
      assert.deepEqual(Object.keys(counts).sort(), [...ids].sort());
      for (const [id, c] of Object.entries(counts)) {
        for (const [mark, n] of Object.entries(expected[id] ?? {}))
          assert.equal(c.found[mark], n, `${id}: ${mark} marks`);
        assert.deepEqual(c.expected, expected[id]);
        assert.ok(c.width > 300, `${id} is laid out (width ${c.width})`);
      }
      // The table shows every group, the best rows marked.
      assert.equal(await page.locator('table.compare tbody tr').count(), 3 * 3 + 1);
      assert.ok((await page.locator('table.compare tr.best').count()) >= 3);
      const shots = join(repoRoot, 'test', '.tmp');
      mkdirSync(shots, { recursive: true });
      await page.screenshot({ path: join(shots, 'report.png'), fullPage: true });
      assert.deepEqual(errors, []);
    } finally {
      await context.close();
    }
  });
});
