// The comparison table as text: a terminal table (cli-table3), Markdown, CSV or JSON.
import Table from 'cli-table3';
import { stringify } from 'csv-stringify/sync';
import type { CompareRow, CompareTable } from './compare.js';

export type CompareFormat = 'table' | 'md' | 'csv' | 'json';
export const compareFormats: readonly CompareFormat[] = ['table', 'md', 'csv', 'json'];

/** 4 significant decimals for metrics in [0, 1], otherwise 4 significant digits. */
export function formatNumber(x: number | undefined): string {
  if (x === undefined || !Number.isFinite(x)) return '—';
  const a = Math.abs(x);
  if (a === 0) return '0';
  if (a < 1e-3 || a >= 1e6) return x.toExponential(2);
  if (a < 10) return x.toFixed(4);
  return String(Number(x.toPrecision(5)));
}

function signed(x: number | undefined): string {
  if (x === undefined) return '';
  const s = formatNumber(x);
  return x > 0 ? `+${s}` : s;
}

export function meanStd(r: CompareRow): string {
  return r.std === undefined
    ? formatNumber(r.mean)
    : `${formatNumber(r.mean)} ± ${formatNumber(r.std)}`;
}

function headers(t: CompareTable): string[] {
  return [
    'density',
    'method',
    `${t.metric} (mean ± std)`,
    'n',
    t.baseline !== undefined ? `Δ vs ${t.baseline}` : 'Δ',
  ];
}

function densityText(d: number): string {
  return String(d);
}

export function formatCompare(t: CompareTable, format: CompareFormat): string {
  const arrow = t.higherIsBetter ? 'higher is better' : 'lower is better';
  switch (format) {
    case 'json':
      return JSON.stringify(
        {
          metric: t.metric,
          higherIsBetter: t.higherIsBetter,
          baseline: t.baseline ?? null,
          rows: t.rows.map((r) => ({ ...r, std: r.std ?? null, delta: r.delta ?? null })),
        },
        null,
        2,
      );
    case 'csv':
      return stringify([
        ['density', 'method', 'n', 'mean', 'std', 'min', 'max', 'best', 'delta', 'baseline'],
        ...t.rows.map((r) => [
          r.density,
          r.method,
          r.n,
          r.mean,
          r.std ?? '',
          r.min,
          r.max,
          r.best ? 'true' : 'false',
          r.delta ?? '',
          t.baseline ?? '',
        ]),
      ]);
    case 'md': {
      const h = headers(t);
      const lines = [
        `| ${h.join(' | ')} |`,
        `| ${h.map((_, i) => (i >= 2 ? '---:' : '---')).join(' | ')} |`,
      ];
      for (const r of t.rows) {
        const v = r.best ? `**${meanStd(r)}**` : meanStd(r);
        lines.push(
          `| ${densityText(r.density)} | ${r.method} | ${v} | ${r.n} | ${r.method === t.baseline ? '' : signed(r.delta)} |`,
        );
      }
      lines.push(
        '',
        `Best at each density in bold (${t.metric}: ${arrow}); std is the sample standard deviation over seeds (n − 1).`,
      );
      return lines.join('\n');
    }
    case 'table': {
      const table = new Table({
        head: headers(t),
        style: { head: [], border: [], compact: true },
        colAligns: ['right', 'left', 'right', 'right', 'right'],
      });
      let last: number | undefined;
      for (const r of t.rows) {
        table.push([
          last === r.density ? '' : densityText(r.density),
          r.method,
          `${meanStd(r)}${r.best ? ' *' : '  '}`,
          r.n,
          r.method === t.baseline ? '' : signed(r.delta),
        ]);
        last = r.density;
      }
      return `${table.toString()}\n* best at its density (${t.metric}: ${arrow}); ± is the sample std over seeds (n − 1)`;
    }
  }
}
