// scalpel validate <recipe...>: load, override, check schemas, plugins and the stage graph of one
// or more recipes (e.g. `scalpel validate recipes/*.yaml` in CI). Nothing runs.
import { Command } from 'commander';
import { ExitCode } from '../../errors.js';
import type { BackendChoice } from '../../recipe/types.js';
import { backendChoice, collect, withDebug } from '../options.js';
import { exitCodeOf, formatError } from '../report-error.js';

interface ValidateOpts {
  set: string[];
  backend?: BackendChoice;
  debug?: boolean;
}

export function validateCommand(): Command {
  return withDebug(new Command('validate'))
    .description('check recipes (YAML, schemas, plugins, stage graph) without running anything')
    .argument('<recipes...>', 'recipe files (YAML)')
    .option(
      '--set <path=value>',
      'override a field, value parsed as YAML (repeatable; applies to every recipe)',
      collect,
      [],
    )
    .option(
      '--backend <backend>',
      'override the recipe backend: auto, tensorflow, wasm or cpu',
      backendChoice,
    )
    .action(async (files: string[], opts: ValidateOpts) => {
      const options = {
        set: opts.set,
        ...(opts.backend !== undefined ? { backend: opts.backend } : {}),
      };
      if (files.length === 1 && files[0] !== undefined) {
        // One recipe: its error propagates and is printed (and mapped to an exit code) by main.
        process.stdout.write(await validateOne(files[0], options));
        return;
      }
      // Several: report each, exit with the most severe code.
      let exit: number = ExitCode.ok;
      for (const file of files) {
        try {
          process.stdout.write(await validateOne(file, options));
        } catch (e) {
          process.stderr.write(`${file}: invalid\n${formatError(e, opts.debug === true)}\n`);
          exit = Math.max(exit, exitCodeOf(e));
        }
      }
      process.exitCode = exit;
    });
}

/** Validate a recipe and, when it has a `sweep:` section, the sweep and every trial it expands to. */
async function validateOne(
  file: string,
  options: { set: string[]; backend?: BackendChoice },
): Promise<string> {
  // Loaded on demand so `--help` and usage errors do not pay for tfjs and the registry.
  const { validateRecipe } = await import('../../recipe/load-recipe.js');
  const { isSweepFile, loadSweep } = await import('../../sweep/sweep-load.js');
  if (isSweepFile(file)) {
    const sweep = await loadSweep(file, options);
    return `${file}: sweep file valid — recipe ${sweep.recipeFile}, ${sweep.trials.length} trial${sweep.trials.length === 1 ? '' : 's'}\n`;
  }
  const result = await validateRecipe(file, options);
  let text = describeValid(file, result);
  if (result.recipe.sweep !== undefined) {
    const sweep = await loadSweep(file, options);
    text += `${file}: sweep valid — ${sweep.trials.length} trial${sweep.trials.length === 1 ? '' : 's'}\n`;
  }
  return text;
}

function describeValid(
  file: string,
  {
    recipe,
    dag,
  }: {
    recipe: { name: string; plugins: readonly string[] };
    dag: { order: readonly { id: string }[] };
  },
): string {
  const n = dag.order.length;
  const plugins = recipe.plugins.length > 0 ? `; plugins: ${recipe.plugins.join(', ')}` : '';
  return `${file}: valid — recipe '${recipe.name}', ${n} stage${n === 1 ? '' : 's'}: ${dag.order.map((s) => s.id).join(', ')}${plugins}\n`;
}
