// Colours of the report's charts. A method has one hue in every report (a fixed table for the
// built-in pruners; other names get one from a spare list by a hash of the name, so that too is
// the same everywhere). Several series of one method (icbs, icbs + finetune, icbs at k = 4 and
// k = 8) are shades of its hue, in the order of their labels.

/** Tableau 10 hues, assigned once and for all. */
const fixed: Readonly<Record<string, string>> = {
  icbs: '#4e79a7',
  magnitude: '#f28e2b',
  wanda: '#59a14f',
  sparsegpt: '#b07aa1',
  gradient: '#e15759',
  random: '#9c755f',
  dense: '#595959',
};

const spare = ['#76b7b2', '#edc948', '#ff9da7', '#bab0ac', '#17becf', '#8c564b', '#bcbd22'];

function hash(s: string): number {
  let h = 2166136261;
  for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), 16777619) >>> 0;
  return h;
}

export function methodColor(method: string): string {
  return fixed[method] ?? spare[hash(method) % spare.length] ?? '#888888';
}

function mix(hex: string, target: number, t: number): string {
  const c = [1, 3, 5].map((i) => parseInt(hex.slice(i, i + 2), 16));
  return `#${c
    .map((x) =>
      Math.round(x + (target - x) * t)
        .toString(16)
        .padStart(2, '0'),
    )
    .join('')}`;
}

/** The i-th shade of a hue: the hue itself, then alternately darker and lighter. */
export function shade(hex: string, i: number): string {
  if (i === 0) return hex;
  const step = Math.ceil(i / 2);
  const t = Math.min(0.7, 0.22 * step);
  return i % 2 === 1 ? mix(hex, 0, t) : mix(hex, 255, t);
}

export interface Series {
  readonly label: string;
  readonly method: string;
}

/** The colour encoding of a chart whose rows name their `series` (and its method), legend right. */
export function seriesColorEncoding(rows: readonly { series: string; method: string }[]): {
  field: 'series';
  type: 'nominal';
  title: null;
  scale: { domain: string[]; range: string[] };
  legend: { orient: 'right'; direction: 'vertical' };
} {
  return {
    field: 'series',
    type: 'nominal',
    title: null,
    scale: seriesColors(rows.map((r) => ({ label: r.series, method: r.method }))),
    legend: { orient: 'right', direction: 'vertical' },
  };
}

/** A vega-lite colour scale for series: domain in label order, each a shade of its method. */
export function seriesColors(series: readonly Series[]): { domain: string[]; range: string[] } {
  const byLabel = new Map<string, string>();
  for (const s of series) if (!byLabel.has(s.label)) byLabel.set(s.label, s.method);
  const domain = [...byLabel.keys()].sort();
  const seen = new Map<string, number>();
  const range = domain.map((label) => {
    const method = byLabel.get(label) ?? label;
    const i = seen.get(method) ?? 0;
    seen.set(method, i + 1);
    return shade(methodColor(method), i);
  });
  return { domain, range };
}
