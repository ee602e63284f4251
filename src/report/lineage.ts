// The lineage of an evaluation: every stage upstream of it (and the evaluation itself), with the
// parameters each was run with. Two evaluations belong to one configuration exactly when their
// lineages are equal once seeds are ignored — so the rows of `compare` pool seed repeats and
// nothing else. Stage ids are not part of the identity (two recipes may call the same prune stage
// `prune` and `prune-icbs`); stage types, parameters and the shape of the graph are.
import canonicalize from 'canonicalize';
import { isObject } from '../util/is-object.js';

/** What the lineage needs to know of a stage (a subset of collect.ts' StageInfo). */
export interface LineageStage {
  readonly uses: string;
  readonly needs: readonly string[];
  readonly params: Readonly<Record<string, unknown>>;
}

/** A parameter value as compared and shown: numbers, strings, booleans; lists as JSON text. */
export type ParamValue = string | number | boolean | null;

export interface Lineage {
  /** Canonical text of the lineage tree without seeds: equal keys are one configuration. */
  readonly key: string;
  /**
   * Every parameter of every stage in the lineage, flattened: `<stage type>.<param>` (nested
   * objects dotted: `prune.layerDensities.lambda`). When a stage type occurs twice in one lineage
   * its stages are told apart by id (`calib-data.source`). Seeds are left out.
   */
  readonly params: Readonly<Record<string, ParamValue>>;
  /** Stage id → the prefix its parameters have in `params`. */
  readonly prefixes: Readonly<Record<string, string>>;
}

/** Parameters that choose a random stream, not a configuration: they make repeats. */
export function isSeedParam(name: string): boolean {
  return name === 'seed';
}

function withoutSeeds(params: Readonly<Record<string, unknown>>): Record<string, unknown> {
  return Object.fromEntries(Object.entries(params).filter(([k]) => !isSeedParam(k)));
}

function flatten(prefix: string, v: unknown, out: Record<string, ParamValue>): void {
  if (isObject(v)) {
    const keys = Object.keys(v);
    if (keys.length === 0) out[prefix] = '{}';
    for (const k of keys) flatten(`${prefix}.${k}`, v[k], out);
  } else if (Array.isArray(v)) out[prefix] = canonicalize(v) ?? '[]';
  else if (typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean')
    out[prefix] = v;
  else out[prefix] = null;
}

/** Ids of `id` and all its ancestors. */
export function ancestors(stages: ReadonlyMap<string, LineageStage>, id: string): string[] {
  const out: string[] = [];
  const seen = new Set<string>();
  const stack = [id];
  for (let s = stack.pop(); s !== undefined; s = stack.pop()) {
    if (seen.has(s)) continue;
    seen.add(s);
    out.push(s);
    stack.push(...(stages.get(s)?.needs ?? []));
  }
  return out;
}

/** The lineage of stage `id` in one run or trial. */
export function lineageOf(stages: ReadonlyMap<string, LineageStage>, id: string): Lineage {
  const memo = new Map<string, unknown>();
  const tree = (s: string): unknown => {
    const hit = memo.get(s);
    if (hit !== undefined) return hit;
    const st = stages.get(s);
    const node =
      st === undefined
        ? { missing: true }
        : {
            uses: st.uses,
            params: withoutSeeds(st.params),
            needs: st.needs.map(tree).sort((a, b) => {
              const ca = canonicalize(a) ?? '';
              const cb = canonicalize(b) ?? '';
              return ca < cb ? -1 : ca > cb ? 1 : 0;
            }),
          };
    memo.set(s, node);
    return node;
  };
  const ids = ancestors(stages, id);
  const typeCount = new Map<string, number>();
  for (const s of ids) {
    const uses = stages.get(s)?.uses;
    if (uses !== undefined) typeCount.set(uses, (typeCount.get(uses) ?? 0) + 1);
  }
  const params: Record<string, ParamValue> = {};
  const prefixes: Record<string, string> = {};
  for (const s of ids) {
    const st = stages.get(s);
    if (st === undefined) continue;
    const prefix = (typeCount.get(st.uses) ?? 0) > 1 ? s : st.uses;
    prefixes[s] = prefix;
    for (const [k, v] of Object.entries(withoutSeeds(st.params)))
      flatten(`${prefix}.${k}`, v, params);
  }
  return { key: canonicalize(tree(id)) ?? '', params, prefixes };
}

/**
 * The stages on the model's path from `from` back to `to` (both excluded), nearest `to` first:
 * for eval ← finetune ← prune that is [finetune]. Shortest path over `needs`.
 */
export function stagesBetween(
  stages: ReadonlyMap<string, LineageStage>,
  from: string,
  to: string,
): string[] {
  const parent = new Map<string, string>();
  const queue = [from];
  const seen = new Set([from]);
  for (let q = queue.shift(); q !== undefined; q = queue.shift()) {
    if (q === to) break;
    for (const n of stages.get(q)?.needs ?? []) {
      if (seen.has(n)) continue;
      seen.add(n);
      parent.set(n, q);
      queue.push(n);
    }
  }
  if (!parent.has(to)) return [];
  const path: string[] = [];
  for (let p = parent.get(to); p !== undefined && p !== from; p = parent.get(p)) path.push(p);
  return path;
}

/** `icbs + finetune`: the pruning method, then each stage type that changed the model after it. */
export function displayName(
  method: string,
  stages: ReadonlyMap<string, LineageStage>,
  evalId: string,
  pruneId: string | undefined,
): string {
  if (pruneId === undefined) return method;
  const after = stagesBetween(stages, evalId, pruneId).map((s) => stages.get(s)?.uses ?? s);
  return [method, ...after].join(' + ');
}
