// Sweep spec → trials. A grid is the cartesian product of every parameter's values (ranges spread
// over `steps` points); a random sweep draws `samples` distinct combinations from a generator
// seeded by the recipe seed, so the same recipe always expands to the same trials. Excluded
// combinations are dropped (grid) or redrawn (random). Each combination then runs `repeats` times.
import canonicalize from 'canonicalize';
import { isDeepStrictEqual } from 'node:util';
import { Rng, deriveSeed } from '../util/rng.js';
import { sweepError } from './sweep-spec.js';
import type {
  Combination,
  ParameterDomain,
  SweepParameter,
  SweepSpec,
  TrialSpec,
} from './sweep-types.js';

/** Round away binary noise (0.30000000000000004 → 0.3) without leaving a range's bounds. */
function tidy(x: number): number {
  return Number(x.toPrecision(12));
}

/** The finite list of values of a domain (ranges need `steps`). */
export function domainValues(d: ParameterDomain): unknown[] {
  if (d.kind === 'values') return [...d.values];
  const steps = d.steps ?? 1;
  const out: number[] = [];
  for (let i = 0; i < steps; i++) {
    const t = steps === 1 ? 0 : i / (steps - 1);
    let v = d.log
      ? Math.exp(Math.log(d.min) + t * (Math.log(d.max) - Math.log(d.min)))
      : d.min + t * (d.max - d.min);
    if (i === 0) v = d.min;
    if (i === steps - 1 && steps > 1) v = d.max;
    v = d.integer
      ? Math.min(Math.floor(d.max), Math.max(Math.ceil(d.min), Math.round(v)))
      : tidy(v);
    if (!out.includes(v)) out.push(v);
  }
  return out;
}

/** One random value of a domain. */
export function drawValue(d: ParameterDomain, rng: Rng): unknown {
  if (d.kind === 'values' || d.steps !== undefined) {
    const values = domainValues(d);
    return values[rng.int(values.length)];
  }
  if (d.integer) {
    const lo = Math.ceil(d.min);
    const hi = Math.floor(d.max);
    if (!d.log) return lo + rng.int(hi - lo + 1);
    // Log-uniform over [lo - 0.5, hi + 0.5) (clamped at > 0), rounded: each integer gets the mass of its cell.
    const a = Math.log(Math.max(lo - 0.5, lo / 2));
    const b = Math.log(hi + 0.5);
    const v = Math.round(Math.exp(a + rng.float() * (b - a)));
    return Math.min(hi, Math.max(lo, v));
  }
  const u = rng.float();
  const v = d.log
    ? Math.exp(Math.log(d.min) + u * (Math.log(d.max) - Math.log(d.min)))
    : d.min + u * (d.max - d.min);
  return Math.min(d.max, Math.max(d.min, tidy(v)));
}

function isExcluded(c: Combination, exclude: SweepSpec['exclude']): boolean {
  return exclude.some((rule) => Object.entries(rule).every(([k, v]) => valueEquals(c[k], v)));
}

function valueEquals(a: unknown, b: unknown): boolean {
  if (typeof a === 'number' && typeof b === 'number')
    return a === b || Math.abs(a - b) <= 1e-12 * Math.max(1, Math.abs(a), Math.abs(b));
  return isDeepStrictEqual(a, b);
}

function gridCombinations(params: readonly SweepParameter[]): Combination[] {
  let combos: Record<string, unknown>[] = [{}];
  for (const p of params) {
    const values = domainValues(p.domain);
    const next: Record<string, unknown>[] = [];
    for (const c of combos) for (const v of values) next.push({ ...c, [p.name]: v });
    combos = next;
  }
  return combos;
}

/** Number of distinct combinations when every domain is finite, else Infinity. */
function spaceSize(params: readonly SweepParameter[]): number {
  let n = 1;
  for (const p of params) {
    const d = p.domain;
    if (d.kind === 'range' && d.steps === undefined) {
      if (!d.integer) return Infinity;
      n *= Math.floor(d.max) - Math.ceil(d.min) + 1;
    } else n *= domainValues(d).length;
  }
  return n;
}

function randomCombinations(spec: SweepSpec, recipeSeed: number): Combination[] {
  const samples = spec.samples ?? 0;
  const rng = new Rng(deriveSeed(recipeSeed, 'sweep'));
  const seen = new Set<string>();
  const out: Combination[] = [];
  const maxAttempts = samples * 100 + 1000;
  for (let attempt = 0; out.length < samples && attempt < maxAttempts; attempt++) {
    const c: Record<string, unknown> = {};
    for (const p of spec.parameters) c[p.name] = drawValue(p.domain, rng);
    const key = canonicalize(c) ?? '';
    if (seen.has(key) || isExcluded(c, spec.exclude)) continue;
    seen.add(key);
    out.push(c);
  }
  if (out.length < samples) {
    const size = spaceSize(spec.parameters);
    throw sweepError(
      `sweep.samples: asked for ${samples} distinct combinations but only ${out.length} could be drawn${Number.isFinite(size) ? ` (the parameters allow ${size} before exclusions)` : ''}`,
      spec.locate(['samples']),
      'lower samples, widen the parameters, or use method: grid to run every combination',
    );
  }
  return out;
}

/** The `--set` text for one path and value (JSON is valid YAML flow syntax). */
export function overrideText(path: string, value: unknown): string {
  return `${path}=${JSON.stringify(value)}`;
}

/**
 * Expand a spec into trials. `recipeSeed` seeds random draws; `baseSeed` is the value currently
 * at `spec.seedPath` (repeat r runs with baseSeed + r).
 */
export function expandSweep(spec: SweepSpec, recipeSeed: number, baseSeed: number): TrialSpec[] {
  let combos: Combination[];
  if (spec.method === 'grid') {
    const all = gridCombinations(spec.parameters);
    combos = all.filter((c) => !isExcluded(c, spec.exclude));
    if (combos.length === 0) {
      throw sweepError(
        `sweep.exclude removes all ${all.length} combinations`,
        spec.locate(['exclude']),
        'loosen the exclude entries (each entry removes the combinations matching all of its keys)',
      );
    }
  } else {
    combos = randomCombinations(spec, recipeSeed);
  }
  const trials: TrialSpec[] = [];
  for (const parameters of combos) {
    for (let repeat = 0; repeat < spec.repeats; repeat++) {
      const seed = baseSeed + repeat;
      const overrides: string[] = [];
      for (const p of spec.parameters)
        for (const path of p.paths) overrides.push(overrideText(path, parameters[p.name]));
      if (repeat > 0) overrides.push(overrideText(spec.seedPath, seed));
      trials.push({ index: trials.length, parameters, repeat, seed, overrides });
    }
  }
  return trials;
}
