// sparsity.json: per prunable layer its shape, density (from the actual weights) and, when the
// non-zeros follow one, the tightest N:M pattern (`{ keep: N, of: M }`: at most N non-zero weights
// in every group of M consecutive input weights of an output unit, M ∈ {2, 4, 8, 16}, N ≤ M/2).
// When the pruning stage chose per-layer densities (`layerDensities: owl`), each layer also has
// its `targetDensity` and the manifest names the method; the pruning stage records them in its
// model manifest under `pruning.layerDensities` (layerDensitiesRecordOf reads them back).
import type { PrunableModel } from '../plugin-api/model.js';
import { isObject } from '../util/is-object.js';

export interface NmPattern {
  keep: number;
  of: number;
}

export interface LayerSparsityEntry {
  name: string;
  kind: string;
  shape: number[];
  params: number;
  nonZero: number;
  density: number;
  /** Density of the layer's keep-mask, when the model carries one. */
  maskDensity?: number;
  /** The density the pruning stage aimed at for this layer (per-layer methods such as OWL). */
  targetDensity?: number;
  pattern?: NmPattern;
}

export interface SparsityManifest {
  format: 'scalpel-sparsity';
  version: 1;
  layers: LayerSparsityEntry[];
  total: { params: number; nonZero: number; density: number };
  /** How the per-layer target densities were chosen (absent: one density for every layer). */
  layerDensities?: { method: string; M?: number; lambda?: number };
}

/** Per-layer target densities as a pruning stage records them (model manifest `pruning.layerDensities`). */
export interface LayerDensitiesRecord {
  method: string;
  M?: number;
  lambda?: number;
  /** Layer name → target density. */
  layers: Record<string, number>;
}

/** The per-layer target densities recorded in a model artifact's manifest, if any. */
export function layerDensitiesRecordOf(
  manifest: Readonly<Record<string, unknown>>,
): LayerDensitiesRecord | undefined {
  const pruning = manifest.pruning;
  const r = isObject(pruning) ? pruning.layerDensities : undefined;
  if (!isObject(r) || typeof r.method !== 'string' || !isObject(r.layers)) return undefined;
  const layers: Record<string, number> = {};
  for (const [name, d] of Object.entries(r.layers)) if (typeof d === 'number') layers[name] = d;
  return {
    method: r.method,
    ...(typeof r.M === 'number' ? { M: r.M } : {}),
    ...(typeof r.lambda === 'number' ? { lambda: r.lambda } : {}),
    layers,
  };
}

/** Largest number of non-zeros in any group of `m` consecutive inputs of one output (kernel [fanIn, units]). */
export function maxNonZerosPerGroup(
  w: Float32Array,
  fanIn: number,
  units: number,
  m: number,
): number {
  let worst = 0;
  for (let g = 0; g < fanIn; g += m) {
    for (let o = 0; o < units; o++) {
      let c = 0;
      for (let i = g; i < g + m; i++) if (w[i * units + o] !== 0) c++;
      if (c > worst) worst = c;
    }
  }
  return worst;
}

/** The tightest N:M pattern every group satisfies (smallest N/M, then smallest M), if any. */
export function detectNmPattern(
  w: Float32Array,
  fanIn: number,
  units: number,
): NmPattern | undefined {
  let best: NmPattern | undefined;
  for (const m of [2, 4, 8, 16]) {
    if (fanIn % m !== 0) continue;
    const n = maxNonZerosPerGroup(w, fanIn, units, m);
    if (n > m / 2 || n === 0) continue;
    if (best === undefined || n / m < best.keep / best.of) best = { keep: n, of: m };
  }
  return best;
}

export function sparsityManifest(
  model: PrunableModel,
  targets?: LayerDensitiesRecord,
): SparsityManifest {
  const masks = model.masks;
  const layers = model.operators.map((info): LayerSparsityEntry => {
    const w = model.readWeight(info.name);
    let nonZero = 0;
    for (let i = 0; i < w.length; i++) if (w[i] !== 0) nonZero++;
    const mask = masks.get(info.name);
    const entry: LayerSparsityEntry = {
      name: info.name,
      kind: info.kind,
      shape: [...info.kernelShape],
      params: w.length,
      nonZero,
      density: w.length === 0 ? 1 : nonZero / w.length,
    };
    if (mask !== undefined) {
      let kept = 0;
      for (let i = 0; i < mask.length; i++) kept += mask[i] as number;
      entry.maskDensity = mask.length === 0 ? 1 : kept / mask.length;
    }
    const target = targets?.layers[info.name];
    if (target !== undefined) entry.targetDensity = target;
    const pattern = detectNmPattern(w, info.fanIn, info.units);
    if (pattern !== undefined) entry.pattern = pattern;
    return entry;
  });
  const params = layers.reduce((a, l) => a + l.params, 0);
  const nonZero = layers.reduce((a, l) => a + l.nonZero, 0);
  return {
    format: 'scalpel-sparsity',
    version: 1,
    layers,
    total: { params, nonZero, density: params === 0 ? 1 : nonZero / params },
    ...(targets !== undefined
      ? {
          layerDensities: {
            method: targets.method,
            ...(targets.M !== undefined ? { M: targets.M } : {}),
            ...(targets.lambda !== undefined ? { lambda: targets.lambda } : {}),
          },
        }
      : {}),
  };
}
