// scalpel report <dirs…>: one self-contained HTML file (tables, charts as inline SVG, resolved
// recipes, environment), plus each chart as an .svg file beside it.
import { Command } from 'commander';
import { withDebug } from '../options.js';

interface ReportOpts {
  out?: string;
  metric?: string;
  baseline?: string;
  title?: string;
}

export function reportCommand(): Command {
  return withDebug(new Command('report'))
    .description(
      'write an HTML report with tables and charts (opens offline) for run and sweep directories',
    )
    .argument('<dirs...>', 'run directories (runs/…) and/or sweep directories (sweeps/…)')
    .option('-o, --out <file>', 'HTML file to write (default <first dir>/report.html)')
    .option(
      '-m, --metric <name>',
      'metric of the evaluation stages to tabulate and plot (default: accuracy, or perplexity for language models)',
    )
    .option(
      '-b, --baseline <method>',
      'method the Δ column is relative to (default magnitude, if present)',
    )
    .option('--title <text>', 'page title')
    .action(async (dirs: string[], opts: ReportOpts) => {
      // Loaded on demand so `--help` does not pay for vega.
      const { writeReport } = await import('../../report/build-report.js');
      const r = await writeReport(dirs, {
        ...(opts.metric !== undefined ? { metric: opts.metric } : {}),
        ...(opts.out !== undefined ? { out: opts.out } : {}),
        ...(opts.baseline !== undefined ? { baseline: opts.baseline } : {}),
        ...(opts.title !== undefined ? { title: opts.title } : {}),
      });
      process.stdout.write(
        `report: ${r.file}\n${r.charts.map((c) => `chart:  ${c.file}`).join('\n')}\n`,
      );
    });
}
