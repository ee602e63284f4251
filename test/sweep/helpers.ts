// Shared setup for the sweep and report tests: a temp project with the toy plugin and a recipe.
import { copyFileSync, existsSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { repoRoot, tempDir } from '../helpers/paths.js';

export const sweepFixtures = join(repoRoot, 'test', 'sweep', 'fixtures');

/** A fresh directory holding the toy plugin and `toy-sweep.yaml` (optionally edited). */
export function toyProject(edit?: (yaml: string) => string): { dir: string; recipe: string } {
  const dir = tempDir('scalpel-sweep-');
  copyFileSync(join(sweepFixtures, 'toy-plugin.js'), join(dir, 'toy-plugin.js'));
  const text = readFileSync(join(sweepFixtures, 'toy-sweep.yaml'), 'utf8');
  const recipe = join(dir, 'toy-sweep.yaml');
  writeFileSync(recipe, edit !== undefined ? edit(text) : text);
  return { dir, recipe };
}

/** Lines of the toy plugin's counter file ("<type> <stage id> <seed>"). */
export function counterLines(dir: string): string[] {
  const f = join(dir, 'counter.txt');
  return existsSync(f)
    ? readFileSync(f, 'utf8')
        .split('\n')
        .filter((l) => l !== '')
    : [];
}

/** Replace the sweep: section of the toy recipe. */
export function withSweep(section: string): (yaml: string) => string {
  return (yaml) => yaml.replace(/^sweep:[\s\S]*$/m, section.trim() + '\n');
}

export function listDir(dir: string): string[] {
  return existsSync(dir) ? readdirSync(dir) : [];
}
