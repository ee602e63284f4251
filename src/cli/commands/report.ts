// scalpel report <dirs…>: one self-contained HTML file (tables, charts as inline SVG, resolved
// recipes, environment), plus each chart as an .svg file beside it (and .png with --png).
import { Command, InvalidArgumentError } from 'commander';
import { selectionOptions, withSelectionOptions, type SelectionOpts } from '../compare-options.js';
import { withDebug } from '../options.js';

interface ReportOpts extends SelectionOpts {
  out?: string;
  title?: string;
  png?: number | true;
}

function pngScale(value: string): number {
  const x = Number(value);
  if (!Number.isFinite(x) || x <= 0 || x > 8)
    throw new InvalidArgumentError(`expected a scale between 0 and 8 (e.g. 2), got '${value}'`);
  return x;
}

export function reportCommand(): Command {
  return withSelectionOptions(
    withDebug(new Command('report'))
      .description(
        'write an HTML report with tables and charts (opens offline) for run and sweep directories',
      )
      .argument('<dirs...>', 'run directories (runs/…) and/or sweep directories (sweeps/…)')
      .option('-o, --out <file>', 'HTML file to write (default <first dir>/report.html)')
      .option('--title <text>', 'page title')
      .option(
        '--png [scale]',
        'also write each chart as PNG beside its SVG, at scale pixels per SVG pixel (default 2)',
        pngScale,
      ),
  ).action(async (dirs: string[], opts: ReportOpts) => {
    // Loaded on demand so `--help` does not pay for vega.
    const { writeReport } = await import('../../report/build-report.js');
    const r = await writeReport(dirs, {
      ...selectionOptions(opts),
      ...(opts.out !== undefined ? { out: opts.out } : {}),
      ...(opts.title !== undefined ? { title: opts.title } : {}),
      ...(opts.png !== undefined ? { png: opts.png === true ? 2 : opts.png } : {}),
    });
    const lines = [`report: ${r.file}`];
    for (const c of r.charts) {
      lines.push(`chart:  ${c.file}`);
      if (c.png !== undefined) lines.push(`chart:  ${c.png.file} (${c.png.width}×${c.png.height})`);
    }
    process.stdout.write(`${lines.join('\n')}\n`);
  });
}
