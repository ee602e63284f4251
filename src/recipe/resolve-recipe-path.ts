// A path written in a recipe is relative to the recipe's directory (`baseDir`).
import { isAbsolute, resolve } from 'node:path';

export function resolveRecipePath(recipeDir: string, p: string): string {
  return isAbsolute(p) ? p : resolve(recipeDir, p);
}
