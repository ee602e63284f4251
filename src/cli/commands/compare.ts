// scalpel compare <dirs…>: the comparison table of run and sweep directories — grouped by method
// and density, mean ± sample std over seeds, n, best marked, delta to a baseline method.
import { Command, InvalidArgumentError } from 'commander';
import { compareFormats, formatCompare, type CompareFormat } from '../../report/format-compare.js';
import { withDebug } from '../options.js';

interface CompareOpts {
  format: CompareFormat;
  metric?: string;
  baseline?: string;
}

function formatChoice(value: string): CompareFormat {
  const found = compareFormats.find((f) => f === value);
  if (found === undefined)
    throw new InvalidArgumentError(`expected one of ${compareFormats.join(', ')}, got '${value}'`);
  return found;
}

export function compareCommand(): Command {
  return withDebug(new Command('compare'))
    .description(
      'compare methods across run and sweep directories: mean ± std over seeds per method and density',
    )
    .argument('<dirs...>', 'run directories (runs/…) and/or sweep directories (sweeps/…)')
    .option('-f, --format <format>', 'table, md, csv or json', formatChoice, 'table')
    .option(
      '-m, --metric <name>',
      'metric of the evaluation stages (dotted for nested, e.g. params.nonzero) (default: accuracy, or perplexity for language models)',
    )
    .option(
      '-b, --baseline <method>',
      'method the Δ column is relative to (default magnitude, if present)',
    )
    .action(async (dirs: string[], opts: CompareOpts) => {
      const { collectReportData } = await import('../../report/collect.js');
      const { compareTable } = await import('../../report/compare.js');
      const data = collectReportData(dirs);
      const table = compareTable(data.rows, {
        ...(opts.metric !== undefined ? { metric: opts.metric } : {}),
        ...(opts.baseline !== undefined ? { baseline: opts.baseline } : {}),
      });
      process.stdout.write(formatCompare(table, opts.format) + '\n');
    });
}
