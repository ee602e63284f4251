// Paths inside a recipe. Users see dotted paths (`stages.prune.with.blockSize`); code keeps them
// as segment arrays because keys may themselves contain dots (sweep parameters).
export type PathSegment = string | number;
export type RecipePath = readonly PathSegment[];

/** `stages.prune.needs.1` for ['stages', 'prune', 'needs', 1]. */
export function formatPath(path: RecipePath): string {
  return path.length === 0 ? '(top level)' : path.map(String).join('.');
}

/** Segments of an ajv `instancePath` (a JSON pointer such as `/stages/prune/with`). */
export function pointerToPath(pointer: string): PathSegment[] {
  if (pointer === '') return [];
  return pointer
    .slice(1)
    .split('/')
    .map((s) => s.replace(/~1/g, '/').replace(/~0/g, '~'));
}

/** True when `inner` equals `outer` or lies below it. */
export function isWithin(inner: RecipePath, outer: RecipePath): boolean {
  if (inner.length < outer.length) return false;
  return outer.every((seg, i) => String(seg) === String(inner[i]));
}
