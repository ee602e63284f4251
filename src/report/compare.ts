// The comparison table. A row is one configuration: evaluations whose lineages (lineage.ts) are
// equal but for seeds, so n counts seed repeats and nothing else. Columns: density, the display
// name (`icbs + finetune`) and every lineage parameter that varies between rows. `groupBy` names
// the row fields instead (pooling whatever else differs, which the row then says), `filters`
// keep some evaluations only. Per row: mean ± sample standard deviation (n − 1) of one metric,
// the rank at its density (direction from the metric: loss and perplexity are lower-is-better),
// and the difference to a baseline at the same density.
import { deviation, mean } from 'd3-array';
import canonicalize from 'canonicalize';
import { ErrorCode, ScalpelError } from '../errors.js';
import { suggestionHint } from '../suggest.js';
import type { EvalRow } from './collect.js';
import {
  fieldValue,
  type Filter,
  matchesFilter,
  paramKeys,
  parseFilter,
  resolveField,
  shortLabels,
} from './compare-fields.js';
import type { ParamValue } from './lineage.js';

/** Metrics where smaller is better; everything else (accuracy, …) is better when larger. */
const lowerIsBetter =
  /(^|\.)(loss|error|latencyMs|timeMs|sizeBytes|gzipBytes|perplexity|ppl|nll|mse|rmse|mae)$/i;

export function higherIsBetter(metric: string): boolean {
  return !lowerIsBetter.test(metric);
}

/** `perplexity ↓` / `accuracy ↑`: the direction beside the name wherever a metric is shown. */
export function metricLabel(metric: string): string {
  return `${metric} ${higherIsBetter(metric) ? '↑' : '↓'}`;
}

export interface CompareOptions {
  /** Metric key of the evaluation stages (dotted for nested, e.g. params.nonzero). Default: defaultMetric. */
  readonly metric?: string;
  /** Row name (or method) the delta column is relative to; default magnitude when present. */
  readonly baseline?: string;
  /** Fields that make a row (default: the whole configuration). */
  readonly groupBy?: readonly string[];
  /** `<field><op><value>` expressions (compare-fields.ts); all must hold. */
  readonly filters?: readonly string[];
}

export interface CompareRow {
  /** Display name (`icbs + finetune`); names joined by ' | ' when a --group-by row mixes them. */
  readonly name: string;
  readonly method: string;
  /** Undefined when a --group-by row mixes densities. */
  readonly density: number | undefined;
  /** This row's value of every key column (table.columns). */
  readonly fields: Readonly<Record<string, ParamValue | undefined>>;
  readonly n: number;
  /** The distinct seeds of the row's evaluations, ascending. */
  readonly seeds: readonly number[];
  readonly mean: number;
  /** Sample standard deviation (n − 1); undefined for n < 2. */
  readonly std: number | undefined;
  readonly min: number;
  readonly max: number;
  /** 1 = best at its density (ties share a rank). */
  readonly rank: number;
  /** Best mean at its density, with more than one row there (ties all marked). */
  readonly best: boolean;
  /** mean − the baseline's mean at the same density; undefined without exactly one baseline there. */
  readonly delta: number | undefined;
  readonly values: readonly number[];
  /** Fields other than the seed that differ inside the row (only with --group-by). */
  readonly pooled: readonly string[];
}

export interface CompareTable {
  readonly metric: string;
  readonly higherIsBetter: boolean;
  readonly baseline: string | undefined;
  /** Key columns in order: `density`, `name`, then varying parameters (full keys) — or groupBy. */
  readonly columns: readonly string[];
  /** Column key → header text. */
  readonly labels: Readonly<Record<string, string>>;
  readonly groupBy: readonly string[] | undefined;
  readonly filters: readonly string[];
  readonly rows: readonly CompareRow[];
  /** Display names, sorted. */
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

/**
 * The prune stage's own `method` and `density` keys: shown as the method and density columns.
 * And every parameter of a schedule's rounds: the name and the density path say what they are.
 */
function redundantKeys(rows: readonly EvalRow[]): Set<string> {
  const out = new Set<string>();
  for (const r of rows) {
    const prefix = r.pruneStage !== undefined ? r.lineage.prefixes[r.pruneStage] : undefined;
    if (prefix !== undefined) out.add(`${prefix}.method`).add(`${prefix}.density`);
    const prefixes = (r.roundStages ?? []).map((id) => r.lineage.prefixes[id]);
    for (const k of Object.keys(r.lineage.params))
      if (prefixes.some((p) => p !== undefined && k.startsWith(`${p}.`))) out.add(k);
  }
  return out;
}

/** Whether any row went through more than one pruning stage, or a gradual one. */
function hasDensityPaths(rows: readonly EvalRow[]): boolean {
  return rows.some(
    (r) => (r.densityPath?.length ?? 0) > 1 || r.densityPath?.some((p) => p.from !== undefined),
  );
}

/**
 * Parameters that tell configurations apart: two present values, or present in some rows of a
 * name and absent in others (a stage type the name does not mention).
 */
export function varyingParams(rows: readonly EvalRow[]): string[] {
  const skip = redundantKeys(rows);
  const out: string[] = [];
  for (const k of paramKeys(rows)) {
    if (skip.has(k)) continue;
    const present = new Set<string>();
    const byName = new Map<string, Set<boolean>>();
    for (const r of rows) {
      const v = r.lineage.params[k];
      if (v !== undefined) present.add(JSON.stringify(v));
      const s = byName.get(r.name) ?? new Set<boolean>();
      s.add(v !== undefined);
      byName.set(r.name, s);
    }
    if (present.size > 1 || [...byName.values()].some((s) => s.size > 1)) out.push(k);
  }
  return out;
}

interface Group {
  readonly rows: EvalRow[];
  readonly values: number[];
}

function uniform<T>(xs: readonly T[]): T | undefined {
  const first = xs[0];
  return xs.every((x) => x === first) ? first : undefined;
}

/** Fields (other than seed) whose values differ between the group's evaluations. */
function pooledFields(rows: readonly EvalRow[]): string[] {
  if (new Set(rows.map((r) => r.lineage.key)).size <= 1) return [];
  const out: string[] = [];
  for (const k of ['name', ...paramKeys(rows)]) {
    if (new Set(rows.map((r) => JSON.stringify(fieldValue(r, k) ?? null))).size > 1) out.push(k);
  }
  return out;
}

function cmpValues(a: ParamValue | undefined, b: ParamValue | undefined): number {
  if (a === b) return 0;
  if (a === undefined) return 1;
  if (b === undefined) return -1;
  if (typeof a === 'number' && typeof b === 'number') return a - b;
  return String(a).localeCompare(String(b));
}

function parseFilters(rows: readonly EvalRow[], texts: readonly string[]): Filter[] {
  const keys = paramKeys(rows);
  const varying = texts.length > 0 ? varyingParams(rows) : [];
  return texts.map((t) => {
    const f = parseFilter(t);
    return { ...f, field: resolveField(f.field, keys, '--filter', varying) };
  });
}

/** The evaluations every filter expression holds for. */
export function filterRows(rows: readonly EvalRow[], texts: readonly string[]): EvalRow[] {
  const filters = parseFilters(rows, texts);
  return rows.filter((r) => filters.every((f) => matchesFilter(fieldValue(r, f.field), f)));
}

export function compareTable(all: readonly EvalRow[], opts: CompareOptions = {}): CompareTable {
  const metric = opts.metric ?? defaultMetric(all);
  const keys = paramKeys(all);
  const filters = parseFilters(all, opts.filters ?? []);
  const rows = filterRows(all, opts.filters ?? []);
  const varyingAll = opts.groupBy !== undefined ? varyingParams(all) : [];
  const groupBy = opts.groupBy?.map((g) => resolveField(g, keys, '--group-by', varyingAll));
  const columns = groupBy ?? [
    'density',
    'name',
    ...(hasDensityPaths(rows) ? ['path'] : []),
    ...varyingParams(rows),
  ];

  const groups = new Map<string, Group>();
  for (const r of rows) {
    const v = metricValue(r.metrics, metric);
    if (v === undefined) continue;
    const key =
      groupBy === undefined
        ? r.lineage.key
        : (canonicalize(groupBy.map((g) => fieldValue(r, g) ?? null)) ?? '');
    const g = groups.get(key) ?? { rows: [], values: [] };
    g.rows.push(r);
    g.values.push(v);
    groups.set(key, g);
  }
  if (groups.size === 0) {
    throw new ScalpelError(
      ErrorCode.Usage,
      all.length === 0
        ? 'no evaluation results found'
        : rows.length === 0
          ? `no evaluation matches ${filters.map((f) => `--filter '${f.text}'`).join(' ')}`
          : `no evaluation reports the metric '${metric}'`,
      {
        hint:
          all.length === 0
            ? 'the directories hold no finished evaluate stages yet'
            : rows.length === 0
              ? 'loosen the filter; `scalpel compare <dirs> -f json` lists every row and its fields'
              : suggestionHint(metric, availableMetrics(rows), 'metric'),
      },
    );
  }

  const names = [...new Set(rows.map((r) => r.name))].sort();
  const methods = [...new Set(rows.map((r) => r.method))];
  if (
    opts.baseline !== undefined &&
    !names.includes(opts.baseline) &&
    !methods.includes(opts.baseline)
  ) {
    throw new ScalpelError(
      ErrorCode.Usage,
      `--baseline '${opts.baseline}' is not a method in these results`,
      { hint: suggestionHint(opts.baseline, names, 'method') },
    );
  }
  const baseline = opts.baseline ?? (names.includes('magnitude') ? 'magnitude' : undefined);
  const hib = higherIsBetter(metric);
  const paramColumns = columns.filter(
    (c) => !['name', 'method', 'density', 'path', 'seed'].includes(c),
  );

  const stats = [...groups.values()].map((g) => {
    const rowNames = [...new Set(g.rows.map((r) => r.name))].sort();
    const fields: Record<string, ParamValue | undefined> = {};
    for (const c of columns) fields[c] = uniform(g.rows.map((r) => fieldValue(r, c)));
    return {
      name: rowNames.join(' | '),
      method: [...new Set(g.rows.map((r) => r.method))].sort().join(' | '),
      density: uniform(g.rows.map((r) => r.density)),
      fields,
      n: g.values.length,
      seeds: [...new Set(g.rows.map((r) => r.seed))].sort((a, b) => a - b),
      mean: mean(g.values) ?? NaN,
      std: g.values.length > 1 ? deviation(g.values) : undefined,
      min: Math.min(...g.values),
      max: Math.max(...g.values),
      values: g.values,
      pooled: groupBy === undefined ? [] : pooledFields(g.rows),
    };
  });
  disambiguateNames(stats, columns);

  // Ranks, best and deltas among the rows at one density (all rows when density is no column).
  const byDensity = columns.includes('density');
  const partitions = new Map<number | undefined, typeof stats>();
  for (const s of stats) {
    const k = byDensity ? s.density : undefined;
    partitions.set(k, [...(partitions.get(k) ?? []), s]);
  }
  const isBase = (s: (typeof stats)[number]): boolean =>
    s.name === baseline || (!columns.includes('name') && s.method === baseline);
  const out: CompareRow[] = [];
  const partitionKeys = [...partitions.keys()].sort((a, b) => (a ?? Infinity) - (b ?? Infinity));
  for (const pk of partitionKeys) {
    const here = partitions.get(pk) ?? [];
    const better = (a: number, b: number): boolean => (hib ? a > b : a < b);
    const ranked = here.map((s) => {
      const rank = 1 + here.filter((o) => better(o.mean, s.mean)).length;
      // The baseline row at this density; when there are several (a sweep over its
      // parameters), the one whose parameters match this row's.
      const candidates = here.filter(isBase);
      const bases =
        candidates.length <= 1
          ? candidates
          : candidates.filter((b) =>
              paramColumns.every((c) => b.fields[c] === undefined || b.fields[c] === s.fields[c]),
            );
      const base = bases.length === 1 ? bases[0] : undefined;
      return {
        ...s,
        rank,
        best: here.length > 1 && rank === 1,
        delta: base !== undefined ? s.mean - base.mean : undefined,
      };
    });
    ranked.sort(
      (a, b) =>
        a.rank - b.rank ||
        a.name.localeCompare(b.name) ||
        paramColumns.reduce((acc, c) => acc || cmpValues(a.fields[c], b.fields[c]), 0),
    );
    out.push(...ranked);
  }
  const densities = [...new Set(rows.map((r) => r.density))].sort((a, b) => a - b);
  const labels: Record<string, string> = { ...shortLabels(paramColumns) };
  labels['path'] = 'density path';
  for (const c of columns) labels[c] ??= c;
  return {
    metric,
    higherIsBetter: hib,
    baseline,
    columns,
    labels,
    groupBy,
    filters: filters.map((f) => f.text),
    rows: out,
    methods: names,
    densities,
  };
}

/**
 * Two configurations that no shown column tells apart (they differ only in the graph's shape)
 * get `#2`, `#3` … after the name, so the table never shows two identical-looking rows.
 */
function disambiguateNames(
  stats: { name: string; fields: Record<string, ParamValue | undefined> }[],
  columns: readonly string[],
): void {
  const seen = new Map<string, number>();
  for (const s of stats) {
    const k = JSON.stringify(columns.map((c) => (c === 'name' ? s.name : (s.fields[c] ?? null))));
    const count = (seen.get(k) ?? 0) + 1;
    seen.set(k, count);
    if (count > 1) {
      s.name = `${s.name} #${count}`;
      if (s.fields['name'] !== undefined) s.fields['name'] = s.name;
    }
  }
}
