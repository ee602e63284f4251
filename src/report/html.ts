// The report as ONE self-contained HTML file: inline CSS, charts as inline SVG, no scripts, no
// fonts or images from anywhere — it opens offline and can be mailed around. Sections: summary,
// comparison table, charts, the resolved recipes, the environment (lock.json).
import type { SourceInfo } from './collect.js';
import { metricLabel, type CompareTable } from './compare.js';
import { formatNumber, keyCell, meanStd, rowMarks, tableNotes } from './format-compare.js';

export interface RenderedChart {
  readonly id: string;
  readonly title: string;
  readonly caption: string;
  readonly svg: string;
  readonly expectedMarks: Readonly<Record<string, number>>;
}

export interface ReportPage {
  readonly title: string;
  readonly generatedAt: string;
  readonly scalpelVersion: string;
  readonly sources: readonly SourceInfo[];
  readonly table: CompareTable;
  readonly charts: readonly RenderedChart[];
}

export function escapeHtml(s: string): string {
  return s
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;')
    .replace(/'/g, '&#39;');
}

const css = `
:root { color-scheme: light; }
body { font-family: system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, sans-serif; margin: 0; color: #1f2328; background: #fff; }
main { max-width: 1100px; margin: 0 auto; padding: 24px 32px 64px; }
h1 { font-size: 1.6rem; margin: 0 0 4px; }
h2 { font-size: 1.25rem; margin: 36px 0 12px; border-bottom: 1px solid #d0d7de; padding-bottom: 4px; }
h3 { font-size: 1.05rem; margin: 20px 0 8px; }
.meta { color: #57606a; font-size: 0.9rem; }
table { border-collapse: collapse; font-size: 0.92rem; margin: 8px 0; }
th, td { border: 1px solid #d0d7de; padding: 4px 10px; }
th { background: #f6f8fa; text-align: left; }
td.num { text-align: right; font-variant-numeric: tabular-nums; }
tr.best td.value { font-weight: 700; background: #dafbe1; }
tr.first td { border-top: 2px solid #8c959f; }
figure { margin: 16px 0 28px; }
figure svg { max-width: 100%; height: auto; }
figcaption { color: #57606a; font-size: 0.88rem; margin-top: 4px; }
pre { background: #f6f8fa; border: 1px solid #d0d7de; padding: 12px; overflow: auto; font-size: 0.8rem; max-height: 480px; }
details { margin: 8px 0; }
summary { cursor: pointer; font-weight: 600; }
.note { font-size: 0.88rem; color: #57606a; }
`;

function tableHtml(t: CompareTable): string {
  const head = [
    ...t.columns.map((c) => t.labels[c] ?? c),
    `${metricLabel(t.metric)} (mean ± std)`,
    'n',
    'min',
    'max',
    t.baseline !== undefined ? `Δ vs ${t.baseline}` : 'Δ',
  ];
  const rows: string[] = [];
  let last: number | undefined;
  const densityFirst = t.columns[0] === 'density';
  for (const r of t.rows) {
    const newBlock = last !== r.density;
    const cls = [r.best ? 'best' : '', newBlock && densityFirst ? 'first' : '']
      .filter((c) => c !== '')
      .join(' ');
    const delta =
      r.name === t.baseline || r.delta === undefined
        ? ''
        : `${r.delta > 0 ? '+' : ''}${formatNumber(r.delta)}`;
    const keys = t.columns
      .map((c, i) => {
        const text = i === 0 && densityFirst && !newBlock ? '' : keyCell(r, c);
        return `<td${c === 'density' ? ' class="num"' : ''}>${escapeHtml(text)}</td>`;
      })
      .join('');
    rows.push(
      `<tr${cls !== '' ? ` class="${cls}"` : ''} data-method="${escapeHtml(r.method)}" data-name="${escapeHtml(r.name)}" data-density="${r.density ?? ''}">` +
        keys +
        `<td class="num value">${escapeHtml(meanStd(r))}${r.best ? ' ★' : ''}${rowMarks(r)}</td><td class="num">${r.n}</td>` +
        `<td class="num">${formatNumber(r.min)}</td><td class="num">${formatNumber(r.max)}</td><td class="num">${delta}</td></tr>`,
    );
    last = r.density;
  }
  const notes = tableNotes(t)
    .map((n) => `<p class="note">${escapeHtml(n.replace(/^best/, '★ best'))}.</p>`)
    .join('');
  return `<table class="compare"><thead><tr>${head.map((h) => `<th>${escapeHtml(h)}</th>`).join('')}</tr></thead><tbody>${rows.join('')}</tbody></table>${notes}`;
}

function environmentHtml(s: SourceInfo): string {
  if (s.lock === undefined) return '<p class="note">no lock.json</p>';
  const { nodes, ...rest } = s.lock;
  const nodeCount = nodes !== null && typeof nodes === 'object' ? Object.keys(nodes).length : 0;
  return (
    `<pre>${escapeHtml(JSON.stringify(rest, null, 2))}</pre>` +
    (nodeCount > 0
      ? `<details><summary>${nodeCount} nodes (hashes, versions, seeds)</summary><pre>${escapeHtml(JSON.stringify(nodes, null, 2))}</pre></details>`
      : '')
  );
}

export function renderReportHtml(page: ReportPage): string {
  const sources = page.sources
    .map(
      (s) =>
        `<li><strong>${escapeHtml(s.name)}</strong> — ${s.kind}, ${s.units} ${s.kind === 'sweep' ? 'finished trials' : 'run'} — <code>${escapeHtml(s.dir)}</code></li>`,
    )
    .join('');
  const charts = page.charts
    .map(
      (c) =>
        `<figure id="chart-${c.id}" data-expected-marks="${escapeHtml(JSON.stringify(c.expectedMarks))}"><h3>${escapeHtml(c.title)}</h3>${c.svg}<figcaption>${escapeHtml(c.caption)}</figcaption></figure>`,
    )
    .join('\n');
  const recipes = page.sources
    .map(
      (s) =>
        `<details${page.sources.length === 1 ? ' open' : ''}><summary>${escapeHtml(s.name)} — ${s.kind === 'sweep' ? 'sweep.resolved.yaml' : 'recipe.resolved.yaml'}</summary><pre>${escapeHtml(s.resolvedYaml)}</pre></details>`,
    )
    .join('\n');
  const envs = page.sources
    .map((s) => `<h3>${escapeHtml(s.name)}</h3>${environmentHtml(s)}`)
    .join('\n');
  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'; img-src data:">
<title>${escapeHtml(page.title)}</title>
<style>${css}</style>
</head>
<body>
<main>
<h1>${escapeHtml(page.title)}</h1>
<p class="meta">Generated ${escapeHtml(page.generatedAt)} by scalpel ${escapeHtml(page.scalpelVersion)}</p>
<ul>${sources}</ul>
<h2>Comparison</h2>
${tableHtml(page.table)}
<h2>Charts</h2>
${charts !== '' ? charts : '<p class="note">no data to chart</p>'}
<h2>Resolved recipes</h2>
${recipes}
<h2>Environment</h2>
${envs}
</main>
</body>
</html>
`;
}
