// `scalpel report`: collect the directories, build the comparison table and charts, write the
// HTML file and each chart as an .svg beside it (charts/<id>.svg). PNG is not written: every
// PNG rasteriser for Node (canvas, sharp, resvg) ships a native binary, which this project does
// not depend on; the SVGs open in any browser and convert with any tool.
import { mkdirSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { writeFileAtomicSync } from '../util/atomic-file.js';
import { scalpelVersion } from '../util/package-root.js';
import { collectReportData, type ReportData } from './collect.js';
import { compareTable, type CompareOptions, type CompareTable } from './compare.js';
import { curveSpec, layerDensitySpec, pruningCurveSpec, type ChartSpec } from './chart-specs.js';
import { renderReportHtml, type RenderedChart } from './html.js';
import { renderChartSvg } from './render-chart.js';

export interface ReportOptions extends CompareOptions {
  /** The HTML file (default `<first dir>/report.html`). */
  readonly out?: string;
  readonly title?: string;
}

export interface ReportResult {
  readonly file: string;
  readonly charts: readonly {
    id: string;
    file: string;
    expectedMarks: Readonly<Record<string, number>>;
  }[];
  readonly table: CompareTable;
  readonly data: ReportData;
}

export function reportCharts(data: ReportData, table: CompareTable): ChartSpec[] {
  return [
    pruningCurveSpec(table),
    curveSpec(data.rows, table.metric, 'step'),
    curveSpec(data.rows, table.metric, 'time'),
    layerDensitySpec(data.rows),
  ].filter((c): c is ChartSpec => c !== undefined);
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
  const written = charts.map((c) => {
    const f = join(chartsDir, `${c.id}.svg`);
    writeFileAtomicSync(f, `<?xml version="1.0" encoding="UTF-8"?>\n${c.svg}\n`);
    return { id: c.id, file: f, expectedMarks: c.expectedMarks };
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
