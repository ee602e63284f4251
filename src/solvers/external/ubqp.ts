// The UBQP text format the `external` solver writes (the format of the classic unconstrained
// binary quadratic programming benchmark sets):
//
//   n m                 n variables, m = number of lines that follow
//   i j c_ij            1-based, i ≤ j (upper triangle), one line per non-zero coefficient
//
// Convention: the file's energy Σ_{i≤j} c_ij x_i x_j equals xᵀQx, i.e. c_ii = Q_ii and, for
// i < j, c_ij = Q_ij + Q_ji (so for the usual symmetric Q, twice the matrix entry). Values are
// written with JavaScript's shortest round-trip decimal form. The cardinality constraint Σx = k
// is not part of the file: the command receives k through the {k} placeholder.

/** The UBQP text of Q (n × n row-major). */
export function toUbqp(Q: ArrayLike<number>, n: number): string {
  const lines: string[] = [];
  for (let i = 0; i < n; i++) {
    const d = Q[i * n + i] as number;
    if (d !== 0) lines.push(`${i + 1} ${i + 1} ${d}`);
    for (let j = i + 1; j < n; j++) {
      const c = (Q[i * n + j] as number) + (Q[j * n + i] as number);
      if (c !== 0) lines.push(`${i + 1} ${j + 1} ${c}`);
    }
  }
  return `${n} ${lines.length}\n${lines.join('\n')}${lines.length > 0 ? '\n' : ''}`;
}

/** Parses UBQP text back into a dense symmetric Q (for tests and for users' tooling). */
export function fromUbqp(text: string): { n: number; Q: Float64Array } {
  const rows = text.split(/\r?\n/).filter((l) => l.trim() !== '');
  const header = (rows[0] ?? '').trim().split(/\s+/).map(Number);
  const n = header[0] ?? NaN;
  const m = header[1] ?? NaN;
  if (!Number.isInteger(n) || !Number.isInteger(m) || rows.length - 1 !== m) {
    throw new Error(
      `UBQP: bad header '${rows[0] ?? ''}' or ${rows.length - 1} entries for m = ${m}`,
    );
  }
  const Q = new Float64Array(n * n);
  for (const row of rows.slice(1)) {
    const [i, j, c] = row.trim().split(/\s+/).map(Number);
    if (i === undefined || j === undefined || c === undefined || !(i >= 1 && j >= i && j <= n)) {
      throw new Error(`UBQP: bad entry '${row}'`);
    }
    if (i === j) Q[(i - 1) * n + (i - 1)] = c;
    else {
      Q[(i - 1) * n + (j - 1)] = c / 2;
      Q[(j - 1) * n + (i - 1)] = c / 2;
    }
  }
  return { n, Q };
}
