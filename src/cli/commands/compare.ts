// scalpel compare <dirs…>: the comparison table of run and sweep directories — one row per
// configuration (seeds are the only repeats), mean ± sample std, n, best marked, delta to a
// baseline; --group-by and --filter choose the rows.
import { Command, InvalidArgumentError } from 'commander';
import { compareFormats, formatCompare, type CompareFormat } from '../../report/format-compare.js';
import { selectionOptions, withSelectionOptions, type SelectionOpts } from '../compare-options.js';
import { withDebug } from '../options.js';

interface CompareOpts extends SelectionOpts {
  format: CompareFormat;
}

function formatChoice(value: string): CompareFormat {
  const found = compareFormats.find((f) => f === value);
  if (found === undefined)
    throw new InvalidArgumentError(`expected one of ${compareFormats.join(', ')}, got '${value}'`);
  return found;
}

export function compareCommand(): Command {
  return withSelectionOptions(
    withDebug(new Command('compare'))
      .description(
        'compare configurations across run and sweep directories: mean ± std over seeds, one row per configuration',
      )
      .argument('<dirs...>', 'run directories (runs/…) and/or sweep directories (sweeps/…)')
      .option('-f, --format <format>', 'table, md, csv or json', formatChoice, 'table'),
  ).action(async (dirs: string[], opts: CompareOpts) => {
    const { collectReportData } = await import('../../report/collect.js');
    const { compareTable } = await import('../../report/compare.js');
    const data = collectReportData(dirs);
    const table = compareTable(data.rows, selectionOptions(opts));
    process.stdout.write(formatCompare(table, opts.format) + '\n');
  });
}
