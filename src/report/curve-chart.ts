// The quality curves iterative pruners (iCBS) report, against step or wall time: one line per
// trial — a prune stage of one run or sweep trial, never joined with another trial that happens
// to share density and seed — coloured by configuration (the prune stage's lineage without its
// seed), so the repeats of one configuration share a colour and the legend lists configurations.
import type { TopLevelSpec } from 'vega-lite';
import type { EvalRow } from './collect.js';
import { valueText } from './compare-fields.js';
import { metricValue } from './compare.js';
import { axisTitle, baseConfig, schemaUrl, type ChartSpec } from './chart-specs.js';
import { seriesColors } from './chart-palette.js';
import { shortLabels } from './compare-fields.js';

export interface CurvePoint {
  /** The trial's line: source, trial index and prune stage. */
  readonly trial: string;
  /** The configuration the trial belongs to, as the legend shows it. */
  readonly group: string;
  readonly method: string;
  readonly density: number;
  readonly seed: number;
  readonly step: number;
  readonly elapsedS: number;
  readonly value: number;
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

/** Legend labels: the method, the density when several, and the prune parameters that vary. */
function groupLabels(rows: readonly EvalRow[]): Map<EvalRow, string> {
  const keys = new Set<string>();
  for (const r of rows) for (const k of Object.keys(r.pruneLineage?.params ?? {})) keys.add(k);
  const skip = new Set<string>();
  for (const r of rows) {
    const prefix = r.pruneStage !== undefined ? r.pruneLineage?.prefixes[r.pruneStage] : undefined;
    if (prefix !== undefined) skip.add(`${prefix}.method`).add(`${prefix}.density`);
  }
  const varying = [...keys]
    .sort()
    .filter(
      (k) =>
        !skip.has(k) &&
        new Set(rows.map((r) => JSON.stringify(r.pruneLineage?.params[k] ?? null))).size > 1,
    );
  const labels = shortLabels(varying);
  const manyDensities = new Set(rows.map((r) => r.density)).size > 1;
  return new Map(
    rows.map((r) => [
      r,
      [
        r.method,
        ...(manyDensities ? [`density=${r.density}`] : []),
        ...varying.map((k) => `${labels[k] ?? k}=${valueText(r.pruneLineage?.params[k])}`),
      ].join(' · '),
    ]),
  );
}

/** Points of the `curve` arrays reported by iterative pruning stages (iCBS), one trial each. */
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
  const groups = groupLabels(withCurve);
  const points: CurvePoint[] = [];
  for (const r of withCurve) {
    const trial = `${r.source}|${r.trial ?? ''}|${r.pruneStage ?? ''}`;
    for (const p of pruneCurve(r) ?? []) {
      const value = metricValue(p, chosen);
      const step = p['step'];
      const elapsed = p['elapsedMs'];
      if (value === undefined || typeof step !== 'number') continue;
      points.push({
        trial,
        group: groups.get(r) ?? r.method,
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

/** iCBS quality against step or wall time: one line per trial, coloured by configuration. */
export function curveSpec(
  rows: readonly EvalRow[],
  metric: string,
  x: 'step' | 'time',
): ChartSpec | undefined {
  const c = curvePoints(rows, metric);
  if (c === undefined) return undefined;
  const points = x === 'time' ? c.points.filter((p) => Number.isFinite(p.elapsedS)) : c.points;
  if (points.length === 0) return undefined;
  const trials = new Set(points.map((p) => p.trial));
  const colors = seriesColors(points.map((p) => ({ label: p.group, method: p.method })));
  const spec = {
    $schema: schemaUrl,
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
      y: {
        field: 'value',
        type: 'quantitative',
        title: axisTitle(c.metric),
        scale: { zero: false },
      },
      color: {
        field: 'group',
        type: 'nominal',
        title: 'configuration',
        scale: colors,
        legend: { orient: 'right', direction: 'vertical' },
      },
      detail: { field: 'trial', type: 'nominal' },
      tooltip: [{ field: 'group' }, { field: 'seed' }, { field: 'step' }, { field: 'value' }],
    },
  } as unknown as TopLevelSpec;
  return {
    id: x === 'step' ? 'icbs-vs-step' : 'icbs-vs-time',
    title: `${c.metric} during iCBS vs ${x === 'step' ? 'step' : 'wall time'}`,
    caption:
      (x === 'step'
        ? 'The quality of the mask as iCBS improves it, one line per trial'
        : 'The same curves against elapsed time (the quality–time trade-off), one line per trial') +
      '; lines of one colour are seed repeats of one configuration.',
    spec,
    expectedMarks: { line: trials.size },
  };
}
