// Plain-text tables for the console: columns padded to their widest cell, the last column free.
const ansi = /\u001b\[[0-9;]*m/g;

function width(s: string): number {
  return [...s.replace(ansi, '')].length;
}

/** Render rows (first row = header) as aligned text lines. */
export function renderTable(
  rows: readonly (readonly string[])[],
  opts: { indent?: string } = {},
): string {
  const cols = Math.max(0, ...rows.map((r) => r.length));
  const widths = Array.from({ length: cols }, (_, c) =>
    Math.max(0, ...rows.map((r) => width(r[c] ?? ''))),
  );
  const indent = opts.indent ?? '';
  return rows
    .map((r) =>
      (
        indent +
        r
          .map((cell, c) =>
            c === r.length - 1 ? cell : cell + ' '.repeat((widths[c] ?? 0) - width(cell)),
          )
          .join('  ')
      ).trimEnd(),
    )
    .join('\n');
}
