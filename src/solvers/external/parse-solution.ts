// Reading the answer an external solver prints. The solution is the LAST line of stdout that is
// not empty and does not start with '#' (earlier lines — logs, energies — are ignored). That
// line may be, optionally wrapped in [ ]:
//   1. n values 0/1 separated by spaces and/or commas:       "1 0 0 1"  "1,0,0,1"  "[1, 0, 0, 1]"
//   2. a single string of n characters 0/1:                  "1001"
//   3. the 1-based indices of the k ones, separated likewise: "1 4"      "[1, 4]"
// Form 1/2 is taken when the line has exactly n tokens (or one n-character token) that are all
// 0 or 1; 0/1 tokens including a 0 in any other number are a 0/1 vector of the wrong length;
// otherwise the tokens are read as indices (all integers in 1..n, distinct, exactly k).

/** Thrown for a malformed answer; the caller adds the command and the output. */
export class SolutionFormatError extends Error {}

export function parseSolution(stdout: string, n: number, k: number): Uint8Array {
  const lines = stdout.split(/\r?\n/).map((l) => l.trim());
  const line = lines.filter((l) => l !== '' && !l.startsWith('#')).pop();
  if (line === undefined) throw new SolutionFormatError('it printed no solution line');
  const body = line.replace(/^\[/, '').replace(/\]$/, '').trim();
  const tokens = body.split(/[\s,]+/).filter((t) => t !== '');

  const single = tokens.length === 1 && n > 1 ? tokens[0] : undefined;
  const binaryTokens =
    single !== undefined && /^[01]+$/.test(single) && single.length === n
      ? single.split('')
      : tokens;
  if (binaryTokens.length === n && binaryTokens.every((t) => t === '0' || t === '1')) {
    const x = Uint8Array.from(binaryTokens, (t) => (t === '1' ? 1 : 0));
    const ones = x.reduce((s, v) => s + v, 0);
    if (ones !== k)
      throw new SolutionFormatError(`the solution has ${ones} ones, expected exactly k = ${k}`);
    return x;
  }

  // A 0/1 vector of the wrong length (indices are ≥ 1, so a 0 means a vector was meant).
  if (single !== undefined && /^[01]+$/.test(single) && single.length > 1) {
    throw new SolutionFormatError(
      `the 0/1 string has ${single.length} characters, expected n = ${n}`,
    );
  }
  if (tokens.includes('0') && tokens.every((t) => t === '0' || t === '1')) {
    throw new SolutionFormatError(`the 0/1 vector has ${tokens.length} values, expected n = ${n}`);
  }
  if (tokens.length === 0 || !tokens.every((t) => /^[+-]?\d+$/.test(t))) {
    const bad = tokens.find((t) => !/^[+-]?\d+$/.test(t)) ?? '';
    throw new SolutionFormatError(
      `the last output line is neither ${n} values 0/1 nor a list of 1-based indices (bad token '${bad.slice(0, 40)}')`,
    );
  }
  const values = tokens.map(Number);
  if (tokens.length === n) {
    const nonBinary = values.find((v) => v !== 0 && v !== 1);
    // n integer tokens with something other than 0/1: a non-binary vector unless they are a
    // valid index list (possible only when k = n).
    if (k !== n)
      throw new SolutionFormatError(
        `the solution has ${n} values but value ${nonBinary} is not 0 or 1`,
      );
  }
  const x = new Uint8Array(n);
  for (const v of values) {
    if (v < 1 || v > n) {
      throw new SolutionFormatError(
        `read as 1-based indices of the ones, index ${v} is outside 1..${n} (or: a 0/1 vector must have exactly n = ${n} values, this line has ${values.length})`,
      );
    }
    if (x[v - 1] === 1)
      throw new SolutionFormatError(
        `read as 1-based indices of the ones, index ${v} appears twice`,
      );
    x[v - 1] = 1;
  }
  if (values.length !== k) {
    throw new SolutionFormatError(
      `read as 1-based indices of the ones, it lists ${values.length} indices, expected exactly k = ${k} (a 0/1 vector must have exactly n = ${n} values)`,
    );
  }
  return x;
}
