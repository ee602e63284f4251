// Writing small recipes to temporary files for tests.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fixturesDir, tempDir } from '../helpers/paths.js';

export const testStagesPlugin = join(fixturesDir, 'plugins', 'test-stages.js');
export const goodRecipe = join(fixturesDir, 'good-recipes', 'pipeline.yaml');

/** Write `text` as <tmp>/<name> and return its path. `PLUGIN` in the text becomes the test plugin's absolute path. */
export function writeRecipe(
  text: string,
  name = 'recipe.yaml',
  dir = tempDir('scalpel-recipe-'),
): string {
  const file = join(dir, name);
  writeFileSync(file, text.replaceAll('PLUGIN', JSON.stringify(testStagesPlugin)));
  return file;
}

/** 1-based line and column of the first occurrence of `token` at or after line `fromLine`. */
export function positionOf(
  text: string,
  token: string,
  fromLine = 1,
): { line: number; col: number } {
  const lines = text.split('\n');
  for (let i = fromLine - 1; i < lines.length; i++) {
    const col = (lines[i] ?? '').indexOf(token);
    if (col >= 0) return { line: i + 1, col: col + 1 };
  }
  throw new Error(`token ${token} not found`);
}
