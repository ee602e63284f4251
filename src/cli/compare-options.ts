// The row-selection flags `compare` and `report` share: --metric, --baseline, --group-by and
// --filter, with the help text that explains what a row is.
import type { Command } from 'commander';
import type { CompareOptions } from '../report/compare.js';
import { collect } from './options.js';

export interface SelectionOpts {
  metric?: string;
  baseline?: string;
  groupBy?: string[];
  filter?: string[];
}

/** `--group-by a,b --group-by c` → [a, b, c]. */
function collectList(value: string, previous: string[] = []): string[] {
  return [
    ...previous,
    ...value
      .split(',')
      .map((v) => v.trim())
      .filter((v) => v !== ''),
  ];
}

export const rowsHelp = `
Rows:
  A row is one configuration: the evaluated model's whole lineage (method, density, every
  parameter of the prune stage and of every stage upstream, and what ran after pruning, as in
  'icbs + finetune'). Only seeds vary inside a row; n counts them. Parameters that differ
  between rows are shown as columns (by their shortest unambiguous name, e.g. k for prune.k).

Fields (for --group-by and --filter):
  name (e.g. 'icbs + finetune'), method, density, seed, and any stage parameter as
  <stage type>.<param> (prune.k, finetune.epochs, prune.layerDensities.lambda) or an
  unambiguous tail of it (k, epochs, lambda).

  --group-by method,density     one row per method and density, pooling everything else
                                (rows that pool more than seeds are marked †)
  --filter method=icbs          keep evaluations whose field equals the value
  --filter 'method=icbs,wanda'  … equals one of the values
  --filter name!=dense          … differs from every value
  --filter 'density<=0.5'       … compares as a number (< <= > >=)
  Filters repeat and all must hold.
`;

export function withSelectionOptions(cmd: Command): Command {
  return cmd
    .option(
      '-m, --metric <name>',
      'metric of the evaluation stages (dotted for nested, e.g. params.nonzero) (default: accuracy, or perplexity for language models)',
    )
    .option(
      '-b, --baseline <name>',
      'row name or method the Δ column is relative to (default magnitude, if present)',
    )
    .option(
      '-g, --group-by <fields>',
      'comma-separated fields that make a row, instead of the whole configuration (repeatable)',
      collectList,
    )
    .option(
      '--filter <field=value>',
      'keep only evaluations where the expression holds (repeatable; see below)',
      (value: string, previous: string[] = []) => collect(value, previous),
    )
    .addHelpText('after', rowsHelp);
}

export function selectionOptions(opts: SelectionOpts): CompareOptions {
  return {
    ...(opts.metric !== undefined ? { metric: opts.metric } : {}),
    ...(opts.baseline !== undefined ? { baseline: opts.baseline } : {}),
    ...(opts.groupBy !== undefined && opts.groupBy.length > 0 ? { groupBy: opts.groupBy } : {}),
    ...(opts.filter !== undefined ? { filters: opts.filter } : {}),
  };
}
