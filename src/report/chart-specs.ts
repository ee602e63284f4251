// Vega-Lite specifications of the report's charts, built from the comparison table and the
// evaluation rows. Each chart also says how many marks it must draw (lines, points, bars), which
// the browser test checks against what was rendered.
import type { TopLevelSpec } from 'vega-lite';
import type { EvalRow } from './collect.js';
import { metricValue, type CompareTable } from './compare.js';

export interface ChartSpec {
  /** File-name-safe id (`pruning-curve`). */
  readonly id: string;
  readonly title: string;
  readonly caption: string;
  readonly spec: TopLevelSpec;
  /** Marks the rendered SVG must contain, by vega mark type (`line`, `symbol`, `rect`, `rule`). */
  readonly expectedMarks: Readonly<Record<string, number>>;
}

const baseConfig = {
  font: 'sans-serif',
  background: 'white',
  axis: { labelFontSize: 11, titleFontSize: 12 },
  legend: { labelFontSize: 11, titleFontSize: 12 },
} as const;

/** Metric vs density, one line per method, error bars (± sample std) over seeds. */
export function pruningCurveSpec(t: CompareTable): ChartSpec | undefined {
  const pruned = t.rows.filter((r) => r.method !== 'dense');
  if (pruned.length === 0) return undefined;
  const values = pruned.map((r) => ({
    method: r.method,
    density: r.density,
    mean: r.mean,
    lo: r.mean - (r.std ?? 0),
    hi: r.mean + (r.std ?? 0),
    n: r.n,
  }));
  const withBars = values.filter((v) => v.n > 1);
  const dense = t.rows.filter((r) => r.method === 'dense');
  const methods = new Set(pruned.map((r) => r.method));
  const layers: unknown[] = [
    {
      mark: { type: 'line', strokeWidth: 2 },
      encoding: { color: { field: 'method', type: 'nominal', title: 'method' } },
    },
    {
      mark: { type: 'point', filled: true, size: 50 },
      encoding: {
        color: { field: 'method', type: 'nominal' },
        tooltip: [
          { field: 'method' },
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
      encoding: {
        y: { field: 'lo', type: 'quantitative' },
        y2: { field: 'hi' },
        color: { field: 'method', type: 'nominal' },
      },
    });
  }
  const spec = {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
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
      y: { field: 'mean', type: 'quantitative', title: t.metric, scale: { zero: false } },
    },
    layer: layers,
  } as unknown as TopLevelSpec;
  const denseMean = dense[0]?.mean;
  return {
    id: 'pruning-curve',
    title: `${t.metric} vs density`,
    caption:
      `One line per method; points are means over seeds, bars ± one sample standard deviation.` +
      (denseMean !== undefined ? ` Dense model: ${denseMean.toFixed(4)}.` : ''),
    spec,
    expectedMarks: {
      line: methods.size,
      symbol: values.length,
      ...(withBars.length > 0 ? { rule: withBars.length } : {}),
    },
  };
}

interface CurvePoint {
  series: string;
  method: string;
  density: number;
  seed: number;
  step: number;
  elapsedS: number;
  value: number;
}

/**
 * The quality curve an iterative pruning stage reported: `curve` at the top of its metrics, or
 * under the pruner's own key (`icbs.curve`: runPruner spreads a pruner's `info` into the metrics,
 * and iCBS keeps its record under `icbs`).
 */
function pruneCurve(r: EvalRow): Record<string, unknown>[] | undefined {
  const m = r.pruneMetrics;
  if (m === undefined) return undefined;
  const own = m[r.method];
  const c =
    m['curve'] ??
    (own !== null && typeof own === 'object'
      ? (own as Record<string, unknown>)['curve']
      : undefined);
  return Array.isArray(c) && c.length > 0 ? (c as Record<string, unknown>[]) : undefined;
}

/** Points of the `curve` arrays reported by iterative pruning stages (iCBS). */
export function curvePoints(
  rows: readonly EvalRow[],
  metric: string,
): { metric: string; points: CurvePoint[] } | undefined {
  const seen = new Set<string>();
  const withCurve = rows.filter((r) => {
    if (pruneCurve(r) === undefined || r.pruneStage === undefined) return false;
    const key = `${r.source}|${r.trial ?? ''}|${r.pruneStage}`;
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
  if (withCurve.length === 0) return undefined;
  const keys = ['accuracy', 'perplexity', 'loss', 'predictedDeltaL'];
  const candidates = [metric, ...keys.filter((k) => k !== metric)];
  const first = (withCurve[0] !== undefined ? pruneCurve(withCurve[0]) : undefined) ?? [];
  const chosen = candidates.find((k) => first.some((p) => typeof p[k] === 'number'));
  if (chosen === undefined) return undefined;
  const points: CurvePoint[] = [];
  for (const r of withCurve) {
    const series = `${r.method} · d=${r.density} · seed ${r.seed}`;
    for (const p of pruneCurve(r) ?? []) {
      const value = metricValue(p, chosen);
      const step = p['step'];
      const elapsed = p['elapsedMs'];
      if (value === undefined || typeof step !== 'number') continue;
      points.push({
        series,
        method: r.method,
        density: r.density,
        seed: r.seed,
        step,
        elapsedS: typeof elapsed === 'number' ? elapsed / 1000 : NaN,
        value,
      });
    }
  }
  return { metric: chosen, points };
}

/** iCBS quality against step or wall time: one line per (method, density, seed), coloured by density. */
export function curveSpec(
  rows: readonly EvalRow[],
  metric: string,
  x: 'step' | 'time',
): ChartSpec | undefined {
  const c = curvePoints(rows, metric);
  if (c === undefined) return undefined;
  const points = x === 'time' ? c.points.filter((p) => Number.isFinite(p.elapsedS)) : c.points;
  if (points.length === 0) return undefined;
  const series = new Set(points.map((p) => p.series));
  const multiMethod = new Set(points.map((p) => p.method)).size > 1;
  const spec = {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    width: 520,
    height: 300,
    config: baseConfig,
    data: { values: points },
    mark: { type: 'line', strokeWidth: 1.5, opacity: 0.85 },
    encoding: {
      x:
        x === 'step'
          ? { field: 'step', type: 'quantitative', title: 'iCBS step' }
          : { field: 'elapsedS', type: 'quantitative', title: 'wall time (s)' },
      y: { field: 'value', type: 'quantitative', title: c.metric, scale: { zero: false } },
      color: { field: 'density', type: 'ordinal', title: 'density', scale: { scheme: 'viridis' } },
      detail: { field: 'series', type: 'nominal' },
      ...(multiMethod ? { strokeDash: { field: 'method', type: 'nominal', title: 'method' } } : {}),
    },
  } as unknown as TopLevelSpec;
  return {
    id: x === 'step' ? 'icbs-vs-step' : 'icbs-vs-time',
    title: `${c.metric} during iCBS vs ${x === 'step' ? 'step' : 'wall time'}`,
    caption:
      x === 'step'
        ? 'The quality of the mask as iCBS improves it, one line per density and seed.'
        : 'The same curves against elapsed time: the quality–time trade-off.',
    spec,
    expectedMarks: { line: series.size },
  };
}

/** Per-layer density: mean over seeds per (method, target density, layer), one panel per density. */
export function layerDensitySpec(rows: readonly EvalRow[]): ChartSpec | undefined {
  const acc = new Map<
    string,
    { method: string; density: number; layer: string; sum: number; n: number }
  >();
  for (const r of rows) {
    if (r.method === 'dense') continue;
    const layers = r.metrics['layers'] ?? r.pruneMetrics?.['layers'];
    if (layers === null || typeof layers !== 'object') continue;
    for (const [layer, v] of Object.entries(layers as Record<string, unknown>)) {
      const d =
        v !== null && typeof v === 'object' ? (v as Record<string, unknown>)['density'] : undefined;
      if (typeof d !== 'number') continue;
      const key = `${r.method}|${r.density}|${layer}`;
      const a = acc.get(key) ?? { method: r.method, density: r.density, layer, sum: 0, n: 0 };
      a.sum += d;
      a.n += 1;
      acc.set(key, a);
    }
  }
  if (acc.size === 0) return undefined;
  const values = [...acc.values()].map((a) => ({
    method: a.method,
    target: `density ${a.density}`,
    density: a.density,
    layer: a.layer,
    layerDensity: a.sum / a.n,
  }));
  const spec = {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    config: baseConfig,
    data: { values },
    facet: { row: { field: 'target', type: 'nominal', title: null, sort: { field: 'density' } } },
    spec: {
      width: 520,
      height: 110,
      mark: { type: 'bar' },
      encoding: {
        x: { field: 'layer', type: 'nominal', title: 'layer', axis: { labelAngle: -30 } },
        xOffset: { field: 'method', type: 'nominal' },
        y: {
          field: 'layerDensity',
          type: 'quantitative',
          title: 'layer density',
          scale: { domain: [0, 1] },
        },
        color: { field: 'method', type: 'nominal', title: 'method' },
        tooltip: [
          { field: 'method' },
          { field: 'layer' },
          { field: 'layerDensity', format: '.3f' },
        ],
      },
    },
    resolve: { scale: { x: 'shared' } },
  } as unknown as TopLevelSpec;
  return {
    id: 'layer-density',
    title: 'Per-layer density',
    caption:
      'Fraction of weights kept in each layer (mean over seeds), one panel per target density.',
    spec,
    expectedMarks: { rect: values.length },
  };
}
