// Per-layer density, drawn only when it says something: the prune stage spread the density
// unevenly on purpose (OWL, per-layer overrides, an N:M pattern) or the layers came out
// different (global ranking). With uniform pruning every bar would be the target density.
import type { TopLevelSpec } from 'vega-lite';
import type { EvalRow } from './collect.js';
import type { CompareTable } from './compare.js';
import { baseConfig, evalRowLabel, schemaUrl, type ChartSpec } from './chart-specs.js';
import { seriesColorEncoding } from './chart-palette.js';

/** Layers whose densities differ by more than this carry information (rounding stays below). */
const SPREAD = 0.01;

function layerDensities(r: EvalRow): Map<string, number> {
  const out = new Map<string, number>();
  const layers = r.metrics['layers'] ?? r.pruneMetrics?.['layers'];
  if (layers === null || typeof layers !== 'object') return out;
  for (const [layer, v] of Object.entries(layers as Record<string, unknown>)) {
    const d =
      v !== null && typeof v === 'object' ? (v as Record<string, unknown>)['density'] : undefined;
    if (typeof d === 'number') out.set(layer, d);
  }
  return out;
}

/** The prune stage asked for non-uniform densities: OWL, layer overrides or an N:M pattern. */
function nonUniformByDesign(r: EvalRow): boolean {
  const prefix = r.pruneStage !== undefined ? r.pruneLineage?.prefixes[r.pruneStage] : undefined;
  if (prefix === undefined) return false;
  const params = r.pruneLineage?.params ?? {};
  const owl = params[`${prefix}.layerDensities`] ?? params[`${prefix}.layerDensities.method`];
  if (owl === 'owl') return true;
  if (params[`${prefix}.pattern`] !== undefined) return true;
  if (Object.keys(params).some((k) => k.startsWith(`${prefix}.pattern.`))) return true;
  return Object.keys(params).some(
    (k) => k.startsWith(`${prefix}.layers.density.`) && typeof params[k] === 'number',
  );
}

export function layerDensitiesInformative(rows: readonly EvalRow[]): boolean {
  return rows.some((r) => {
    if (r.method === 'dense') return false;
    if (nonUniformByDesign(r)) return true;
    const d = [...layerDensities(r).values()];
    return d.length > 1 && Math.max(...d) - Math.min(...d) > SPREAD;
  });
}

/** Per-layer density: mean over seeds per configuration and layer, one panel per density. */
export function layerDensitySpec(rows: readonly EvalRow[], t: CompareTable): ChartSpec | undefined {
  if (!layerDensitiesInformative(rows)) return undefined;
  const acc = new Map<
    string,
    { series: string; method: string; density: number; layer: string; sum: number; n: number }
  >();
  for (const r of rows) {
    if (r.method === 'dense') continue;
    const series = evalRowLabel(t, r);
    for (const [layer, d] of layerDensities(r)) {
      const key = JSON.stringify([series, r.density, layer]);
      const a = acc.get(key) ?? {
        series,
        method: r.method,
        density: r.density,
        layer,
        sum: 0,
        n: 0,
      };
      a.sum += d;
      a.n += 1;
      acc.set(key, a);
    }
  }
  if (acc.size === 0) return undefined;
  const values = [...acc.values()].map((a) => ({
    series: a.series,
    method: a.method,
    target: `density ${a.density}`,
    density: a.density,
    layer: a.layer,
    layerDensity: a.sum / a.n,
  }));
  const spec = {
    $schema: schemaUrl,
    config: baseConfig,
    data: { values },
    facet: { row: { field: 'target', type: 'nominal', title: null, sort: { field: 'density' } } },
    spec: {
      width: 520,
      height: 110,
      mark: { type: 'bar' },
      encoding: {
        x: { field: 'layer', type: 'nominal', title: 'layer', axis: { labelAngle: -30 } },
        xOffset: { field: 'series', type: 'nominal' },
        y: {
          field: 'layerDensity',
          type: 'quantitative',
          title: 'layer density',
          scale: { domain: [0, 1] },
        },
        color: seriesColorEncoding(values),
        tooltip: [
          { field: 'series' },
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
