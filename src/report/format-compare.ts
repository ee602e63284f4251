// The comparison table as text: a terminal table (cli-table3), Markdown, CSV or JSON. Key
// columns as compareTable chose them (density, name, varying parameters — or --group-by), then
// the metric (its direction in the header), n and the delta to the baseline.
import Table from 'cli-table3';
import { stringify } from 'csv-stringify/sync';
import { valueText } from './compare-fields.js';
import { metricLabel, type CompareRow, type CompareTable } from './compare.js';

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

/** `†` on rows that pool more than seeds, `‡` on rows with two evaluations of one seed. */
export function rowMarks(r: CompareRow): string {
  return `${r.pooled.length > 0 ? '†' : ''}${r.seeds.length < r.n ? '‡' : ''}`;
}

/** The text of a key column's cell. */
export function keyCell(r: CompareRow, column: string): string {
  if (column === 'name') return r.name;
  if (column === 'method') return r.method;
  if (column === 'density') return r.density === undefined ? 'mixed' : String(r.density);
  return valueText(r.fields[column]);
}

/** What the reader needs to know under the table, one sentence each. */
export function tableNotes(t: CompareTable): string[] {
  const where = t.columns.includes('density') ? 'at its density' : 'overall';
  const notes = [
    `best ${where} marked (${t.metric}: ${t.higherIsBetter ? 'higher' : 'lower'} is better); ± is the sample standard deviation (n − 1); n counts evaluations, one per seed`,
  ];
  const pooled = [...new Set(t.rows.flatMap((r) => r.pooled))];
  if (pooled.length > 0)
    notes.push(
      `† pools different configurations (--group-by ${(t.groupBy ?? []).join(' ')}): they differ in ${pooled.join(', ')}`,
    );
  if (t.rows.some((r) => r.seeds.length < r.n))
    notes.push('‡ holds several evaluations with the same seed');
  if (t.filters.length > 0) notes.push(`filtered: ${t.filters.join(' and ')}`);
  return notes;
}

function headers(t: CompareTable): string[] {
  return [
    ...t.columns.map((c) => t.labels[c] ?? c),
    `${metricLabel(t.metric)} (mean ± std)`,
    'n',
    t.baseline !== undefined ? `Δ vs ${t.baseline}` : 'Δ',
  ];
}

function isBaselineRow(t: CompareTable, r: CompareRow): boolean {
  return r.name === t.baseline;
}

function jsonText(t: CompareTable): string {
  return JSON.stringify(
    {
      metric: t.metric,
      higherIsBetter: t.higherIsBetter,
      baseline: t.baseline ?? null,
      columns: t.columns,
      groupBy: t.groupBy ?? null,
      filters: t.filters,
      rows: t.rows.map((r) => ({
        ...r,
        density: r.density ?? null,
        fields: Object.fromEntries(Object.entries(r.fields).map(([k, v]) => [k, v ?? null])),
        std: r.std ?? null,
        delta: r.delta ?? null,
      })),
    },
    null,
    2,
  );
}

function csvText(t: CompareTable): string {
  const params = t.columns.filter((c) => !['density', 'name', 'method'].includes(c));
  return stringify([
    [
      'density',
      'name',
      'method',
      ...params,
      'n',
      'seeds',
      'mean',
      'std',
      'min',
      'max',
      'rank',
      'best',
      'delta',
      'baseline',
      'pooled',
    ],
    ...t.rows.map((r) => [
      r.density ?? '',
      r.name,
      r.method,
      ...params.map((c) => r.fields[c] ?? ''),
      r.n,
      r.seeds.join(' '),
      r.mean,
      r.std ?? '',
      r.min,
      r.max,
      r.rank,
      r.best ? 'true' : 'false',
      r.delta ?? '',
      t.baseline ?? '',
      r.pooled.join(' '),
    ]),
  ]);
}

export function formatCompare(t: CompareTable, format: CompareFormat): string {
  switch (format) {
    case 'json':
      return jsonText(t);
    case 'csv':
      return csvText(t);
    case 'md': {
      const h = headers(t);
      const k = t.columns.length;
      const lines = [
        `| ${h.join(' | ')} |`,
        `| ${h.map((_, i) => (i >= k || t.columns[i] === 'density' ? '---:' : '---')).join(' | ')} |`,
      ];
      for (const r of t.rows) {
        const v = r.best ? `**${meanStd(r)}**` : meanStd(r);
        lines.push(
          `| ${t.columns.map((c) => keyCell(r, c)).join(' | ')} | ${v}${rowMarks(r)} | ${r.n} | ${isBaselineRow(t, r) ? '' : signed(r.delta)} |`,
        );
      }
      lines.push(
        '',
        ...tableNotes(t).map((n) => `${n.replace(/^best (.*?) marked/, 'Best $1 in bold')}.`),
      );
      return lines.join('\n');
    }
    case 'table': {
      const table = new Table({
        head: headers(t),
        style: { head: [], border: [], compact: true },
        colAligns: [
          ...t.columns.map((c): 'left' | 'right' => (c === 'density' ? 'right' : 'left')),
          'right',
          'right',
          'right',
        ],
      });
      let last: number | undefined;
      for (const r of t.rows) {
        const cells = t.columns.map((c) => keyCell(r, c));
        // The density once per block of rows.
        if (t.columns[0] === 'density' && last === r.density && r.density !== undefined)
          cells[0] = '';
        table.push([
          ...cells,
          `${meanStd(r)}${r.best ? ' *' : '  '}${rowMarks(r)}`,
          r.n,
          isBaselineRow(t, r) ? '' : signed(r.delta),
        ]);
        last = r.density;
      }
      const notes = tableNotes(t);
      return `${table.toString()}\n* ${notes.join('\n')}`;
    }
  }
}
