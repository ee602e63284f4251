// Mean and standard error of per-example scores, as lm-evaluation-harness aggregates acc:
// stderr = sample standard deviation (n − 1 denominator) / √n. NaN when n < 2.

export interface MeanStderr {
  readonly mean: number;
  readonly stderr: number;
}

export function meanAndStderr(values: ArrayLike<number>): MeanStderr {
  const n = values.length;
  let sum = 0;
  for (let i = 0; i < n; i++) sum += values[i] as number;
  const mean = n > 0 ? sum / n : NaN;
  if (n < 2) return { mean, stderr: NaN };
  let ss = 0;
  for (let i = 0; i < n; i++) ss += ((values[i] as number) - mean) ** 2;
  return { mean, stderr: Math.sqrt(ss / (n - 1)) / Math.sqrt(n) };
}
