// The density, layer selection and exact-density rule of a pruning stage, from its (validated)
// params: `density` and `layers` are common to every pruner; `granularity` and `pattern` are
// pruner parameters by convention (a pruner that declares them gets its masks checked by them).
import type { ScalpelError } from '../errors.js';
import { badStageParam } from '../error-factories.js';
import type { Pruner } from '../plugin-api/pruner.js';
import type { StageContext } from '../plugin-api/stage.js';
import type { MaskRule } from './mask-contract.js';
import type { LayerSelectionSpec } from './layer-selection.js';
import type { Granularity, NMPattern } from './select-mask.js';
import { isObject } from '../util/is-object.js';

export interface PruneTarget {
  readonly density: number;
  readonly layers: LayerSelectionSpec;
  readonly rule: MaskRule;
}

const granularities: readonly Granularity[] = ['layer', 'per-output', 'per-input', 'global'];

/** `pattern: { keep, of }` from params, if present. */
export function patternOf(params: Readonly<Record<string, unknown>>): NMPattern | undefined {
  const p = params.pattern;
  if (!isObject(p) || typeof p.keep !== 'number' || typeof p.of !== 'number') return undefined;
  return { keep: p.keep, of: p.of };
}

export function resolvePruneTarget(
  ctx: StageContext<Record<string, unknown>>,
  pruner: Pruner,
  ruleOverride?: MaskRule,
): PruneTarget {
  const params = ctx.params;
  const fail = (key: string, message: string, hint: string): ScalpelError =>
    badStageParam(ctx.stageId, key, `${message} (pruner '${pruner.name}')`, hint);
  const layers = (isObject(params.layers) ? params.layers : {}) as LayerSelectionSpec;
  const pattern = ruleOverride?.pattern ?? patternOf(params);
  const g = ruleOverride?.granularity ?? params.granularity;
  const granularity =
    typeof g === 'string' && (granularities as readonly string[]).includes(g)
      ? (g as Granularity)
      : undefined;
  const rule: MaskRule = {
    ...(granularity !== undefined ? { granularity } : {}),
    ...(pattern !== undefined ? { pattern } : {}),
  };
  const given = typeof params.density === 'number' ? params.density : undefined;

  if (pattern !== undefined) {
    const implied = pattern.keep / pattern.of;
    if (given !== undefined && Math.abs(given - implied) > 1e-12) {
      throw fail(
        'density',
        `density ${given} contradicts pattern ${pattern.keep}:${pattern.of} (density ${implied})`,
        `remove density (the pattern implies ${implied}) or set it to ${implied}`,
      );
    }
    if (Object.keys(layers.density ?? {}).length > 0) {
      throw fail(
        'layers.density',
        'per-layer densities cannot be combined with an N:M pattern',
        'remove layers.density, or prune those layers in a separate stage',
      );
    }
    return { density: implied, layers, rule };
  }
  if (given === undefined) {
    throw fail(
      'density',
      'missing density',
      'add e.g. `density: 0.1` (the fraction of weights to keep)',
    );
  }
  if (granularity === 'global' && Object.keys(layers.density ?? {}).length > 0) {
    ctx.log.info(
      "global granularity: per-layer densities only set each layer's share of the total budget",
    );
  }
  return { density: given, layers, rule };
}
