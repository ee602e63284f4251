// The comparison table: evaluation rows grouped by (method, density), mean ± sample standard
// deviation (n − 1) of one metric over repeats, n, the best method at each density marked, and
// the difference to a baseline method at the same density.
import { deviation, mean } from 'd3-array';
import { ErrorCode, ScalpelError } from '../errors.js';
import { suggestionHint } from '../recipe/suggest.js';
import type { EvalRow } from './collect.js';

/** Metrics where smaller is better; everything else (accuracy, …) is better when larger. */
const lowerIsBetter = /(^|\.)(loss|error|latencyMs|timeMs|sizeBytes|gzipBytes|perplexity|nll)$/i;

export function higherIsBetter(metric: string): boolean {
  return !lowerIsBetter.test(metric);
}

export interface CompareOptions {
  /** Metric key of the evaluation stages (dotted for nested, e.g. params.nonzero). Default: defaultMetric. */
  readonly metric?: string;
  /** Method the delta column is relative to; default magnitude when present. */
  readonly baseline?: string;
}

export interface CompareRow {
  readonly method: string;
  readonly density: number;
  readonly n: number;
  readonly mean: number;
  /** Sample standard deviation (n − 1); undefined for n < 2. */
  readonly std: number | undefined;
  readonly min: number;
  readonly max: number;
  /** Best mean at this density (ties all marked). */
  readonly best: boolean;
  /** mean − baseline mean at the same density; undefined without a baseline there. */
  readonly delta: number | undefined;
  readonly values: readonly number[];
}

export interface CompareTable {
  readonly metric: string;
  readonly higherIsBetter: boolean;
  readonly baseline: string | undefined;
  readonly rows: readonly CompareRow[];
  readonly methods: readonly string[];
  readonly densities: readonly number[];
}

/** A metric value of a row (dotted keys walk nested objects). */
export function metricValue(
  metrics: Readonly<Record<string, unknown>>,
  metric: string,
): number | undefined {
  let v: unknown = metrics;
  for (const k of metric.split('.')) {
    if (v === null || typeof v !== 'object') return undefined;
    v = (v as Record<string, unknown>)[k];
  }
  return typeof v === 'number' && Number.isFinite(v) ? v : undefined;
}

function availableMetrics(rows: readonly EvalRow[]): string[] {
  const out = new Set<string>();
  for (const r of rows)
    for (const [k, v] of Object.entries(r.metrics)) if (typeof v === 'number') out.add(k);
  return [...out].sort();
}

/** The headline metric when none is asked for: accuracy for classifiers, else perplexity (LMs), else loss. */
export function defaultMetric(rows: readonly EvalRow[]): string {
  for (const m of ['accuracy', 'perplexity', 'loss'])
    if (rows.some((r) => metricValue(r.metrics, m) !== undefined)) return m;
  return 'accuracy';
}

export function compareTable(rows: readonly EvalRow[], opts: CompareOptions = {}): CompareTable {
  const metric = opts.metric ?? defaultMetric(rows);
  const groups = new Map<string, { method: string; density: number; values: number[] }>();
  for (const r of rows) {
    const v = metricValue(r.metrics, metric);
    if (v === undefined) continue;
    const key = `${r.method}\u0000${r.density}`;
    const g = groups.get(key) ?? { method: r.method, density: r.density, values: [] };
    g.values.push(v);
    groups.set(key, g);
  }
  if (groups.size === 0) {
    throw new ScalpelError(
      ErrorCode.Usage,
      rows.length === 0
        ? 'no evaluation results found'
        : `no evaluation reports the metric '${metric}'`,
      {
        hint:
          rows.length === 0
            ? 'the directories hold no finished evaluate stages yet'
            : suggestionHint(metric, availableMetrics(rows), 'metric'),
      },
    );
  }
  const methods = [...new Set([...groups.values()].map((g) => g.method))].sort();
  if (opts.baseline !== undefined && !methods.includes(opts.baseline)) {
    throw new ScalpelError(
      ErrorCode.Usage,
      `--baseline '${opts.baseline}' is not a method in these results`,
      {
        hint: suggestionHint(opts.baseline, methods, 'method'),
      },
    );
  }
  const baseline = opts.baseline ?? (methods.includes('magnitude') ? 'magnitude' : undefined);
  const hib = higherIsBetter(metric);
  const stats = [...groups.values()].map((g) => ({
    method: g.method,
    density: g.density,
    n: g.values.length,
    mean: mean(g.values) ?? NaN,
    std: g.values.length > 1 ? deviation(g.values) : undefined,
    min: Math.min(...g.values),
    max: Math.max(...g.values),
    values: g.values,
  }));
  const densities = [...new Set(stats.map((s) => s.density))].sort((a, b) => a - b);
  const out: CompareRow[] = [];
  for (const d of densities) {
    const here = stats
      .filter((s) => s.density === d)
      .sort((a, b) => a.method.localeCompare(b.method));
    const bestMean = hib
      ? Math.max(...here.map((s) => s.mean))
      : Math.min(...here.map((s) => s.mean));
    const base = here.find((s) => s.method === baseline);
    for (const s of here) {
      out.push({
        ...s,
        best: here.length > 1 && s.mean === bestMean,
        delta: base !== undefined ? s.mean - base.mean : undefined,
      });
    }
  }
  return { metric, higherIsBetter: hib, baseline, rows: out, methods, densities };
}
