// scalpel validate <recipe>: load, override, check schemas, plugins and the stage graph.
import { Command } from 'commander';
import { backendChoice, collect, withDebug } from '../options.js';
import type { BackendChoice } from '../../recipe/types.js';

interface ValidateOpts {
  set: string[];
  backend?: BackendChoice;
}

export function validateCommand(): Command {
  return withDebug(new Command('validate'))
    .description('check a recipe (YAML, schemas, plugins, stage graph) without running anything')
    .argument('<recipe>', 'recipe file (YAML)')
    .option('--set <path=value>', 'override a field, value parsed as YAML (repeatable)', collect, [])
    .option('--backend <backend>', 'override the recipe backend: auto, tensorflow, wasm or cpu', backendChoice)
    .action(async (file: string, opts: ValidateOpts) => {
      // Loaded on demand so `--help` and usage errors do not pay for tfjs and the registry.
      const { validateRecipe } = await import('../../recipe/load-recipe.js');
      const { recipe, dag } = await validateRecipe(file, {
        set: opts.set,
        ...(opts.backend !== undefined ? { backend: opts.backend } : {}),
      });
      const plugins = recipe.plugins.length > 0 ? `; plugins: ${recipe.plugins.join(', ')}` : '';
      process.stdout.write(
        `${file}: valid — recipe '${recipe.name}', ${dag.order.length} stage${dag.order.length === 1 ? '' : 's'}: ` +
          `${dag.order.map((n) => n.id).join(', ')}${plugins}\n`,
      );
    });
}
