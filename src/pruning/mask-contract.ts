// What the prune stage checks in every pruner's result before it touches the model: a binary
// Uint8Array mask of the right length for every selected layer (and nothing else), the exact
// density (or N:M pattern), and, for pruners that reconstruct weights, finite kernels of the right
// length. A pruner that breaks the contract is a bug in that plugin: an E_STAGE error naming it.
import { ErrorCode, ScalpelError } from '../errors.js';
import type { Mask } from '../plugin-api/layers.js';
import type { LayerToPrune, PruneResult } from '../plugin-api/pruner.js';
import {
  countKept,
  globalKeepCount,
  keepCount,
  type Granularity,
  type NMPattern,
} from './select-mask.js';

/** Which exact-density rule the masks must follow (see select-mask.ts for the rules). */
export interface MaskRule {
  /** 'global': only the total over all layers is fixed. Anything else (or nothing): per layer. */
  readonly granularity?: Granularity;
  /** N:M: every output unit keeps exactly `keep` of each `of` consecutive input rows. */
  readonly pattern?: NMPattern;
}

export interface ContractParty {
  readonly pruner: string;
  readonly plugin: string;
  readonly stageId?: string;
}

export interface CheckedResult {
  masks: Map<string, Mask>;
  weights: Map<string, Float32Array> | undefined;
}

function broken(who: ContractParty, detail: string, layer?: string): ScalpelError {
  return new ScalpelError(
    ErrorCode.Stage,
    `pruner '${who.pruner}' (plugin '${who.plugin}') broke the pruner contract: ${detail}`,
    {
      plugin: who.plugin,
      ...(who.stageId !== undefined ? { stageId: who.stageId } : {}),
      ...(layer !== undefined ? { layer } : {}),
      hint: 'this is a bug in the plugin; `npm run test:plugin -- <plugin.js>` runs the conformance suite on it (docs/plugins.md)',
    },
  );
}

/** Count of kept weights in column o (output unit) or row i (input feature). */
function columnCount(mask: Mask, fanIn: number, units: number, o: number): number {
  let n = 0;
  for (let i = 0; i < fanIn; i++) n += mask[i * units + o] ?? 0;
  return n;
}
function rowCount(mask: Mask, units: number, i: number): number {
  let n = 0;
  for (let o = 0; o < units; o++) n += mask[i * units + o] ?? 0;
  return n;
}

/** Why a mask misses the layer's exact density under every per-layer rule, or undefined if it meets one. */
export function densityViolation(
  mask: Mask,
  fanIn: number,
  units: number,
  density: number,
): string | undefined {
  const kept = countKept(mask);
  const size = fanIn * units;
  const layerRule = keepCount(density, size);
  if (kept === layerRule) return undefined;
  const perOut = keepCount(density, fanIn);
  if (kept === perOut * units) {
    let uniform = true;
    for (let o = 0; o < units && uniform; o++)
      uniform = columnCount(mask, fanIn, units, o) === perOut;
    if (uniform) return undefined;
  }
  const perIn = keepCount(density, units);
  if (kept === perIn * fanIn) {
    let uniform = true;
    for (let i = 0; i < fanIn && uniform; i++) uniform = rowCount(mask, units, i) === perIn;
    if (uniform) return undefined;
  }
  return (
    `keeps ${kept} of ${size} weights; density ${density} means ${layerRule} for the layer ` +
    `(or ${perOut} in every output unit, or ${perIn} in every input row)`
  );
}

/** Why a mask breaks the N:M pattern (first offending group), or undefined. */
export function patternViolation(
  mask: Mask,
  fanIn: number,
  units: number,
  pattern: NMPattern,
): string | undefined {
  if (fanIn % pattern.of !== 0) return `fan-in ${fanIn} is not a multiple of ${pattern.of}`;
  for (let o = 0; o < units; o++) {
    for (let g = 0; g < fanIn; g += pattern.of) {
      let n = 0;
      for (let t = 0; t < pattern.of; t++) n += mask[(g + t) * units + o] ?? 0;
      if (n !== pattern.keep) {
        return `output unit ${o} keeps ${n} of input rows ${g}…${g + pattern.of - 1}, pattern ${pattern.keep}:${pattern.of} requires exactly ${pattern.keep}`;
      }
    }
  }
  return undefined;
}

/** Validate a pruner's result against the selected layers; returns the masks and weights. */
export function checkPruneResult(
  result: unknown,
  layers: readonly LayerToPrune[],
  rule: MaskRule,
  reconstructsWeights: boolean,
  who: ContractParty,
): CheckedResult {
  if (result === null || typeof result !== 'object')
    throw broken(who, `prune() returned ${String(result)}, not { masks }`);
  const r = result as Partial<PruneResult>;
  if (!(r.masks instanceof Map))
    throw broken(who, '`masks` must be a Map from layer name to Uint8Array');
  const expected = new Set(layers.map((l) => l.info.name));
  for (const name of r.masks.keys()) {
    if (!expected.has(name))
      throw broken(who, `returned a mask for '${name}', which is not a selected layer`, name);
  }
  for (const layer of layers) {
    const { name, fanIn, units, paramCount } = layer.info;
    const mask: unknown = r.masks.get(name);
    if (mask === undefined) throw broken(who, `no mask for selected layer '${name}'`, name);
    if (!(mask instanceof Uint8Array))
      throw broken(who, `the mask of '${name}' is not a Uint8Array`, name);
    if (mask.length !== paramCount) {
      throw broken(
        who,
        `the mask of '${name}' has ${mask.length} entries, the kernel ${paramCount}`,
        name,
      );
    }
    for (let j = 0; j < mask.length; j++) {
      const v = mask[j];
      if (v !== 0 && v !== 1)
        throw broken(
          who,
          `the mask of '${name}' has the value ${v} at ${j} (masks hold 0 or 1)`,
          name,
        );
    }
    const violation =
      rule.pattern !== undefined
        ? patternViolation(mask, fanIn, units, rule.pattern)
        : rule.granularity === 'global'
          ? undefined
          : densityViolation(mask, fanIn, units, layer.density);
    if (violation !== undefined) throw broken(who, `the mask of '${name}' ${violation}`, name);
  }
  if (rule.pattern === undefined && rule.granularity === 'global') {
    const kept = layers.reduce(
      (a, l) => a + countKept(r.masks?.get(l.info.name) ?? new Uint8Array(0)),
      0,
    );
    const want = globalKeepCount(
      layers.map((l) => ({ density: l.density, size: l.info.paramCount })),
    );
    if (kept !== want)
      throw broken(who, `the masks keep ${kept} weights in total, global density requires ${want}`);
  }

  let weights: Map<string, Float32Array> | undefined;
  if (r.weights !== undefined) {
    if (!reconstructsWeights) {
      throw broken(who, 'returned `weights` but does not declare `reconstructsWeights: true`');
    }
    if (!(r.weights instanceof Map))
      throw broken(who, '`weights` must be a Map from layer name to Float32Array');
    weights = r.weights;
    for (const [name, w] of weights) {
      const layer = layers.find((l) => l.info.name === name);
      if (layer === undefined)
        throw broken(who, `returned weights for '${name}', which is not a selected layer`, name);
      if (!(w instanceof Float32Array) || w.length !== layer.info.paramCount) {
        throw broken(
          who,
          `the weights of '${name}' must be a Float32Array of ${layer.info.paramCount} values`,
          name,
        );
      }
      for (let j = 0; j < w.length; j++) {
        if (!Number.isFinite(w[j]))
          throw broken(who, `the weights of '${name}' hold ${w[j]} at ${j}`, name);
      }
    }
  }
  return { masks: r.masks, weights };
}
