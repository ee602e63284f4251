// Does a sweep parameter's path name something in the recipe? A path is valid when it exists in
// the resolved recipe (defaults filled in) or names a property the stage type's schema declares
// (optional parameters without a default). Otherwise the error names the deepest part that exists
// and the closest key there.
import type { JsonSchema } from '../plugin-api/schema.js';
import type { ResolvedRecipe } from '../recipe/types.js';
import { isObject } from '../util/is-object.js';

export type PathCheck =
  | { readonly ok: true; readonly value: unknown }
  | {
      readonly ok: false;
      /** The part of the path that exists (dotted), '' for the top level. */
      readonly existing: string;
      /** The first key that does not exist. */
      readonly missing: string;
      /** Keys available at `existing`. */
      readonly candidates: readonly string[];
    };

/** Walk `path` through plain JSON, matching keys that contain dots (longest first). */
export function lookupPath(root: unknown, path: string): PathCheck {
  const segs = path.split('.');
  let node: unknown = root;
  const done: string[] = [];
  let i = 0;
  while (i < segs.length) {
    if (Array.isArray(node)) {
      const seg = segs[i] ?? '';
      const index = /^\d+$/.test(seg) ? Number(seg) : NaN;
      if (!(index < node.length)) {
        return {
          ok: false,
          existing: done.join('.'),
          missing: seg,
          candidates: node.map((_, k) => String(k)),
        };
      }
      node = node[index];
      done.push(seg);
      i += 1;
      continue;
    }
    if (!isObject(node)) {
      return { ok: false, existing: done.join('.'), missing: segs[i] ?? '', candidates: [] };
    }
    let j = segs.length;
    while (j > i && !Object.prototype.hasOwnProperty.call(node, segs.slice(i, j).join('.'))) j--;
    if (j === i)
      return {
        ok: false,
        existing: done.join('.'),
        missing: segs[i] ?? '',
        candidates: Object.keys(node),
      };
    const key = segs.slice(i, j).join('.');
    node = node[key];
    done.push(key);
    i = j;
  }
  return { ok: true, value: node };
}

/** True when the stage type's schema declares the property chain below `with`. */
function schemaDeclares(schema: JsonSchema, rest: readonly string[]): boolean {
  let s: unknown = schema;
  for (const key of rest) {
    if (!isObject(s)) return false;
    const props = s['properties'];
    if (!isObject(props) || !isObject(props[key])) return false;
    s = props[key];
  }
  return true;
}

/** Check a sweep path against a resolved recipe. */
export function checkRecipePath(recipe: ResolvedRecipe, path: string): PathCheck {
  const found = lookupPath(recipe.resolved, path);
  if (found.ok) return found;
  const segs = path.split('.');
  if (segs[0] === 'stages' && segs[2] === 'with' && segs.length > 3) {
    const stage = recipe.stages.find((s) => s.id === segs[1]);
    if (stage !== undefined && schemaDeclares(stage.type.schema, segs.slice(3)))
      return { ok: true, value: undefined };
    if (stage !== undefined && found.existing === `stages.${stage.id}.with`) {
      const props = stage.type.schema['properties'];
      const declared = isObject(props) ? Object.keys(props) : [];
      return { ...found, candidates: [...new Set([...found.candidates, ...declared])] };
    }
  }
  return found;
}
