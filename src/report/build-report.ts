// `scalpel report`: collect the directories, build the comparison table and charts, write the
// HTML file and each chart as an .svg beside it (<name>-charts/<id>.svg) — and, with `png`, as a
// .png too (resvg; for slides and READMEs).
import { mkdirSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { writeFileAtomicSync } from '../util/atomic-file.js';
import { scalpelVersion } from '../util/package-root.js';
import { collectReportData, type ReportData } from './collect.js';
import { compareTable, filterRows, type CompareOptions, type CompareTable } from './compare.js';
import { pruningCurveSpec, type ChartSpec } from './chart-specs.js';
import { curveSpec } from './curve-chart.js';
import { layerDensitySpec } from './layer-density-chart.js';
import { roundsSpec } from './rounds-chart.js';
import { renderReportHtml, type RenderedChart } from './html.js';
import { renderChartSvg } from './render-chart.js';
import { renderPng } from './render-png.js';

export interface ReportOptions extends CompareOptions {
  /** The HTML file (default `<first dir>/report.html`). */
  readonly out?: string;
  readonly title?: string;
  /** Also write each chart as PNG, at this many pixels per SVG unit (e.g. 2). */
  readonly png?: number;
}

export interface WrittenChart {
  readonly id: string;
  readonly file: string;
  /** The PNG beside the SVG, when asked for. */
  readonly png: { file: string; width: number; height: number } | undefined;
  /** The SVG's own size (the PNG is this × the scale). */
  readonly width: number;
  readonly height: number;
  readonly expectedMarks: Readonly<Record<string, number>>;
}

export interface ReportResult {
  readonly file: string;
  readonly charts: readonly WrittenChart[];
  readonly table: CompareTable;
  readonly data: ReportData;
}

export function reportCharts(data: ReportData, table: CompareTable): ChartSpec[] {
  // The charts show the rows the table shows.
  const rows = filterRows(data.rows, table.filters);
  return [
    pruningCurveSpec(table),
    roundsSpec(rows, table.metric),
    curveSpec(rows, table.metric, 'step'),
    curveSpec(rows, table.metric, 'time'),
    layerDensitySpec(rows, table),
  ].filter((c): c is ChartSpec => c !== undefined);
}

function svgSize(svg: string): { width: number; height: number } {
  const w = /<svg[^>]*\swidth="([\d.]+)"/.exec(svg)?.[1];
  const h = /<svg[^>]*\sheight="([\d.]+)"/.exec(svg)?.[1];
  return { width: Number(w ?? NaN), height: Number(h ?? NaN) };
}

export async function writeReport(
  dirs: readonly string[],
  opts: ReportOptions = {},
): Promise<ReportResult> {
  const data = collectReportData(dirs);
  const table = compareTable(data.rows, opts);
  const first = data.sources[0];
  const file = resolve(opts.out ?? join(first?.dir ?? '.', 'report.html'));
  const chartsDir = join(dirname(file), `${basename(file, '.html')}-charts`);
  const charts: RenderedChart[] = [];
  for (const spec of reportCharts(data, table)) {
    charts.push({
      id: spec.id,
      title: spec.title,
      caption: spec.caption,
      expectedMarks: spec.expectedMarks,
      svg: await renderChartSvg(spec),
    });
  }
  mkdirSync(chartsDir, { recursive: true });
  const written = charts.map((c): WrittenChart => {
    const f = join(chartsDir, `${c.id}.svg`);
    writeFileAtomicSync(f, `<?xml version="1.0" encoding="UTF-8"?>\n${c.svg}\n`);
    let png: WrittenChart['png'];
    if (opts.png !== undefined) {
      const image = renderPng(c.svg, opts.png);
      const pf = join(chartsDir, `${c.id}.png`);
      writeFileAtomicSync(pf, image.data);
      png = { file: pf, width: image.width, height: image.height };
    }
    return { id: c.id, file: f, png, ...svgSize(c.svg), expectedMarks: c.expectedMarks };
  });
  const title = opts.title ?? `scalpel report — ${data.sources.map((s) => s.name).join(', ')}`;
  const html = renderReportHtml({
    title,
    generatedAt: new Date().toISOString(),
    scalpelVersion: scalpelVersion(),
    sources: data.sources,
    table,
    charts,
  });
  writeFileAtomicSync(file, html);
  return { file, charts: written, table, data };
}
