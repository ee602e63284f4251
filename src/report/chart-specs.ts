// Vega-Lite specifications of the comparison charts, built from the comparison table: metric vs
// density (one line per series), or — when every pruned row is at one density — a bar chart.
// A series is a table row without its density: the name and the varying parameters. Each chart
// also says how many marks it must draw (lines, points, bars), which the browser test checks.
import type { TopLevelSpec } from 'vega-lite';
import type { EvalRow } from './collect.js';
import { fieldValue, valueText } from './compare-fields.js';
import { higherIsBetter, metricLabel, type CompareRow, type CompareTable } from './compare.js';
import { seriesColorEncoding, seriesColors } from './chart-palette.js';
import type { ParamValue } from './lineage.js';

export interface ChartSpec {
  /** File-name-safe id (`pruning-curve`). */
  readonly id: string;
  readonly title: string;
  readonly caption: string;
  readonly spec: TopLevelSpec;
  /** Marks the rendered SVG must contain, by vega mark type (`line`, `symbol`, `rect`, `rule`). */
  readonly expectedMarks: Readonly<Record<string, number>>;
}

export const baseConfig = {
  font: 'DejaVu Sans, Verdana, sans-serif',
  background: 'white',
  axis: { labelFontSize: 11, titleFontSize: 12 },
  legend: { labelFontSize: 11, titleFontSize: 12, labelLimit: 420 },
} as const;

export const schemaUrl = 'https://vega.github.io/schema/vega-lite/v6.json';

/** The y-axis title: the metric and which way is better. */
export function axisTitle(metric: string): string {
  return `${metricLabel(metric)} (${higherIsBetter(metric) ? 'higher' : 'lower'} is better)`;
}

/** `icbs + finetune · k=4`: a row's key columns other than density. */
export function seriesLabel(
  t: CompareTable,
  value: (column: string) => ParamValue | undefined,
): string {
  const parts = t.columns
    .filter((c) => c !== 'density' && c !== 'path')
    .map((c) =>
      c === 'name' || c === 'method'
        ? valueText(value(c))
        : `${t.labels[c] ?? c}=${valueText(value(c))}`,
    );
  return parts.length > 0 ? parts.join(' · ') : 'all';
}

export function tableRowLabel(t: CompareTable, r: CompareRow): string {
  return seriesLabel(t, (c) => (c === 'name' ? r.name : c === 'method' ? r.method : r.fields[c]));
}

export function evalRowLabel(t: CompareTable, r: EvalRow): string {
  return seriesLabel(t, (c) => fieldValue(r, c));
}

/** Metric vs density per series with ± std error bars; a bar chart when there is one density. */
export function pruningCurveSpec(t: CompareTable): ChartSpec | undefined {
  const pruned = t.rows.filter((r) => r.method !== 'dense' && r.density !== undefined);
  if (pruned.length === 0) return undefined;
  const densities = new Set(pruned.map((r) => r.density));
  if (densities.size === 1 || !t.columns.includes('density')) return barSpec(t);
  const values = pruned.map((r) => ({
    series: tableRowLabel(t, r),
    method: r.method,
    density: r.density,
    mean: r.mean,
    lo: r.mean - (r.std ?? 0),
    hi: r.mean + (r.std ?? 0),
    n: r.n,
  }));
  const color = seriesColorEncoding(values);
  const withBars = values.filter((v) => v.n > 1);
  const layers: unknown[] = [
    { mark: { type: 'line', strokeWidth: 2 } },
    {
      mark: { type: 'point', filled: true, size: 50 },
      encoding: {
        tooltip: [
          { field: 'series' },
          { field: 'density' },
          { field: 'mean', format: '.4f' },
          { field: 'n' },
        ],
      },
    },
  ];
  if (withBars.length > 0) {
    layers.push({
      transform: [{ filter: 'datum.n > 1' }],
      mark: { type: 'rule', strokeWidth: 1.5 },
      encoding: { y: { field: 'lo', type: 'quantitative' }, y2: { field: 'hi' } },
    });
  }
  const spec = {
    $schema: schemaUrl,
    width: 520,
    height: 320,
    config: baseConfig,
    data: { values },
    encoding: {
      x: {
        field: 'density',
        type: 'quantitative',
        title: 'density (fraction of weights kept)',
        scale: { zero: false },
      },
      y: {
        field: 'mean',
        type: 'quantitative',
        title: axisTitle(t.metric),
        scale: { zero: false },
      },
      color,
    },
    layer: layers,
  } as unknown as TopLevelSpec;
  return {
    id: 'pruning-curve',
    title: `${t.metric} vs density`,
    caption:
      `One line per configuration (seeds pooled); points are means, bars ± one sample standard deviation.` +
      denseNote(t),
    spec,
    expectedMarks: {
      line: new Set(values.map((v) => v.series)).size,
      symbol: values.length,
      ...(withBars.length > 0 ? { rule: withBars.length } : {}),
    },
  };
}

function denseNote(t: CompareTable): string {
  const d = t.rows.find((r) => r.method === 'dense');
  return d !== undefined ? ` Dense model: ${d.mean.toFixed(4)}.` : '';
}

/** One bar per row (best first), ± std error bars, the value above each bar. */
function barSpec(t: CompareTable): ChartSpec {
  const values = t.rows.map((r) => ({
    series: tableRowLabel(t, r),
    method: r.method,
    mean: r.mean,
    lo: r.mean - (r.std ?? 0),
    hi: r.mean + (r.std ?? 0),
    n: r.n,
    text: r.mean.toFixed(4),
  }));
  const order = values.map((v) => v.series);
  const colors = seriesColors(values.map((v) => ({ label: v.series, method: v.method })));
  const x = {
    field: 'series',
    type: 'nominal',
    title: null,
    sort: order,
    axis: { labelAngle: -25, labelLimit: 220 },
  };
  const withBars = values.filter((v) => v.n > 1);
  const density = t.rows.find((r) => r.method !== 'dense')?.density;
  const layers: unknown[] = [
    {
      mark: { type: 'bar' },
      encoding: {
        color: { field: 'series', type: 'nominal', scale: colors, legend: null },
        tooltip: [{ field: 'series' }, { field: 'mean', format: '.4f' }, { field: 'n' }],
      },
    },
    {
      mark: { type: 'text', dy: -6, fontSize: 11 },
      encoding: { y: { field: 'hi', type: 'quantitative' }, text: { field: 'text' } },
    },
  ];
  if (withBars.length > 0) {
    layers.push({
      transform: [{ filter: 'datum.n > 1' }],
      mark: { type: 'rule', strokeWidth: 1.5, color: '#222222' },
      encoding: { y: { field: 'lo', type: 'quantitative' }, y2: { field: 'hi' } },
    });
  }
  const spec = {
    $schema: schemaUrl,
    width: Math.max(240, 70 * values.length),
    height: 300,
    config: baseConfig,
    data: { values },
    encoding: {
      x,
      y: { field: 'mean', type: 'quantitative', title: axisTitle(t.metric) },
    },
    layer: layers,
  } as unknown as TopLevelSpec;
  return {
    id: 'pruning-bars',
    title:
      density !== undefined && t.columns.includes('density')
        ? `${t.metric} at density ${density}`
        : `${t.metric} by ${t.columns.join(', ')}`,
    caption:
      'One bar per configuration, best first; bars ± one sample standard deviation over seeds.',
    spec,
    expectedMarks: {
      rect: values.length,
      ...(withBars.length > 0 ? { rule: withBars.length } : {}),
    },
  };
}
