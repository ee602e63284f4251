// The metric after each round of a schedule (`repeat:` rounds, rounds.ts): one line per schedule
// (seeds pooled: the mean of its evaluations after round r), x = the round, labelled with the
// density it pruned to. Drawn only when some schedule has more than one round.
import type { TopLevelSpec } from 'vega-lite';
import type { EvalRow } from './collect.js';
import { metricValue } from './compare.js';
import { axisTitle, baseConfig, schemaUrl, type ChartSpec } from './chart-specs.js';
import { seriesColorEncoding } from './chart-palette.js';

interface RoundPoint {
  readonly series: string;
  readonly method: string;
  readonly round: number;
  readonly density: number;
  readonly mean: number;
  readonly n: number;
}

export function roundsSpec(rows: readonly EvalRow[], metric: string): ChartSpec | undefined {
  const groups = new Map<string, { row: EvalRow; values: number[] }>();
  for (const r of rows) {
    if (r.rounds === undefined || r.round === undefined) continue;
    const v = metricValue(r.metrics, metric);
    if (v === undefined) continue;
    const key = JSON.stringify([r.name, r.round]);
    const g = groups.get(key) ?? { row: r, values: [] };
    g.values.push(v);
    groups.set(key, g);
  }
  if (groups.size === 0) return undefined;
  const values: RoundPoint[] = [...groups.values()]
    .map(({ row, values: vs }) => ({
      series: row.name,
      method: row.method,
      round: row.round as number,
      density: row.density,
      mean: vs.reduce((a, b) => a + b, 0) / vs.length,
      n: vs.length,
    }))
    .sort((a, b) => a.series.localeCompare(b.series) || a.round - b.round);
  const series = new Set(values.map((v) => v.series));
  const spec = {
    $schema: schemaUrl,
    width: 520,
    height: 300,
    config: baseConfig,
    data: { values },
    encoding: {
      x: {
        field: 'round',
        type: 'quantitative',
        title: 'round',
        axis: { tickMinStep: 1, format: 'd' },
        scale: { zero: false },
      },
      y: { field: 'mean', type: 'quantitative', title: axisTitle(metric), scale: { zero: false } },
      color: seriesColorEncoding(values),
    },
    layer: [
      { mark: { type: 'line', strokeWidth: 2 } },
      {
        mark: { type: 'point', filled: true, size: 50 },
        encoding: {
          tooltip: [
            { field: 'series' },
            { field: 'round' },
            { field: 'density' },
            { field: 'mean', format: '.4f' },
            { field: 'n' },
          ],
        },
      },
      {
        mark: { type: 'text', dy: -9, fontSize: 10 },
        encoding: { text: { field: 'density' } },
      },
    ],
  } as unknown as TopLevelSpec;
  return {
    id: 'rounds',
    title: `${metric} after each round`,
    caption:
      'One line per schedule of pruning rounds (seeds pooled: points are means); each point is labelled with the density that round pruned to.',
    spec,
    expectedMarks: { line: series.size, symbol: values.length, text: values.length },
  };
}
