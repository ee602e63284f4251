// Which prunable layers a prune stage touches, and at what density:
//   layers: { include: ["*"], exclude: ["output"], density: { "dense_1": 0.3, "/^conv/": 0.5 } }
// A pattern is a glob (picomatch: *, ?, [abc], {a,b}, extglobs) or, written between slashes, a
// regular expression (`/^dense_[0-9]+$/i`), matched against the whole tfjs layer name (regexes
// match anywhere unless anchored). A layer is selected when an include pattern matches it and no
// exclude pattern does. A density override applies to the selected layers it matches; when several
// overrides match one layer, the one listed last wins. A pattern that matches nothing is a warning
// (a typo there should not go unnoticed); an empty selection is an error.
import picomatch from 'picomatch';
import { ErrorCode, ScalpelError } from '../errors.js';
import type { PrunableLayerInfo } from '../plugin-api/layers.js';
import type { Logger } from '../plugin-api/stage.js';

export interface LayerSelectionSpec {
  readonly include?: readonly string[];
  readonly exclude?: readonly string[];
  /** Pattern → density for the selected layers it matches. */
  readonly density?: Readonly<Record<string, number>>;
}

export interface SelectedLayer {
  readonly info: PrunableLayerInfo;
  readonly density: number;
}

export interface SelectionContext {
  /** Dotted recipe path of the `layers` value, for messages (e.g. 'stages.prune.with.layers'). */
  readonly path?: string;
  readonly stageId?: string;
  readonly log?: Logger;
}

type Matcher = (name: string) => boolean;

const regexLiteral = /^\/(.+)\/([dgimsuvy]*)$/;

/** A matcher for one pattern: `/…/flags` is a regular expression, anything else a glob. */
export function compilePattern(pattern: string, where = 'layers'): Matcher {
  const m = regexLiteral.exec(pattern);
  if (m !== null) {
    let re: RegExp;
    try {
      // 'g' and 'y' make test() stateful; they mean nothing for a name match.
      re = new RegExp(m[1] ?? '', (m[2] ?? '').replace(/[gy]/g, ''));
    } catch (e) {
      throw new ScalpelError(
        ErrorCode.RecipeSchema,
        `${where}: '${pattern}' is not a valid regular expression: ${e instanceof Error ? e.message : String(e)}`,
        {
          hint: 'write a glob such as "dense_*", or a regular expression between slashes such as "/^dense_[0-9]+$/"',
        },
      );
    }
    return (name) => re.test(name);
  }
  const glob = picomatch(pattern, { dot: true });
  return (name) => glob(name); // one argument: picomatch's second one means something else
}

function describeLayers(layers: readonly PrunableLayerInfo[]): string {
  return layers.map((l) => `${l.name} (${l.kernelShape.join('×')})`).join(', ');
}

/**
 * The selected layers in model order, each with its density (`defaultDensity` unless an override
 * matches). Throws when nothing is selected, naming the patterns and the available layers.
 */
export function selectLayers(
  available: readonly PrunableLayerInfo[],
  spec: LayerSelectionSpec,
  defaultDensity: number,
  ctx: SelectionContext = {},
): SelectedLayer[] {
  const path = ctx.path ?? 'layers';
  const include = spec.include ?? ['*'];
  const exclude = spec.exclude ?? [];
  const overrides = Object.entries(spec.density ?? {});
  const stageOpt = ctx.stageId !== undefined ? { stageId: ctx.stageId } : {};
  const names = available.map((l) => l.name);
  const warnUnmatched = (kind: string, pattern: string, pool: readonly string[]): void => {
    ctx.log?.warn(
      `${path}.${kind}: '${pattern}' matches no ${kind === 'density' ? 'selected ' : ''}layer`,
      {
        pattern,
        layers: pool,
      },
    );
  };

  const included = new Set<string>();
  for (const p of include) {
    const match = compilePattern(p, `${path}.include`);
    const hits = names.filter(match);
    if (hits.length === 0) warnUnmatched('include', p, names);
    for (const h of hits) included.add(h);
  }
  for (const p of exclude) {
    const match = compilePattern(p, `${path}.exclude`);
    const hits = names.filter(match);
    if (hits.length === 0) warnUnmatched('exclude', p, names);
    for (const h of hits) included.delete(h);
  }
  const selected = available.filter((l) => included.has(l.name));
  if (selected.length === 0) {
    throw new ScalpelError(
      ErrorCode.Stage,
      `${path}: no layer selected (include ${JSON.stringify(include)}, exclude ${JSON.stringify(exclude)})`,
      {
        ...stageOpt,
        hint:
          available.length === 0
            ? 'the model has no prunable layers (Dense, Conv1D, Conv2D, DepthwiseConv2D)'
            : `prunable layers of this model: ${describeLayers(available)}`,
      },
    );
  }

  const density = new Map(selected.map((l) => [l.name, defaultDensity]));
  for (const [p, d] of overrides) {
    const match = compilePattern(p, `${path}.density`);
    const hits = selected.filter((l) => match(l.name));
    if (hits.length === 0)
      warnUnmatched(
        'density',
        p,
        selected.map((l) => l.name),
      );
    for (const h of hits) density.set(h.name, d);
  }
  return selected.map((info) => ({ info, density: density.get(info.name) ?? defaultDensity }));
}
