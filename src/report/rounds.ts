// Pruning in rounds, as compare and report see it: the chain of pruning stages an evaluated model
// went through (a `repeat:` schedule's rounds, a prune after a prune, a gradual fine-tune), its
// density path (0.4 → 0.2 → 0.1 → 0.05), and which evaluations belong to one schedule — those
// whose chains start at the same first pruning stage, so the evaluation after round 2 and the one
// after round 4 are points of one line.

/** What the chain needs to know of a stage (a subset of collect.ts' StageInfo). */
export interface ChainStage {
  readonly needs: readonly string[];
  readonly params: Readonly<Record<string, unknown>>;
  readonly metrics: Readonly<Record<string, unknown>> | undefined;
}

/** One step of a density path: pruned to `density`; gradually from `from` (gradual fine-tune). */
export interface DensityStep {
  readonly density: number;
  readonly from?: number;
}

export function isPruneMetrics(m: unknown): m is Record<string, unknown> {
  return (
    m !== null &&
    typeof m === 'object' &&
    typeof (m as Record<string, unknown>)['method'] === 'string' &&
    typeof (m as Record<string, unknown>)['density'] === 'number'
  );
}

/** The nearest pruning stage upstream of `id` (breadth-first over needs). */
export function upstreamPrune(
  stages: ReadonlyMap<string, ChainStage>,
  id: string,
): string | undefined {
  const queue = [...(stages.get(id)?.needs ?? [])];
  const seen = new Set<string>();
  for (let q = queue.shift(); q !== undefined; q = queue.shift()) {
    if (seen.has(q)) continue;
    seen.add(q);
    const s = stages.get(q);
    if (s === undefined) continue;
    if (isPruneMetrics(s.metrics)) return q;
    queue.push(...s.needs);
  }
  return undefined;
}

/** The pruning stages the model evaluated by `evalId` went through, first to last. */
export function pruneChain(stages: ReadonlyMap<string, ChainStage>, evalId: string): string[] {
  const chain: string[] = [];
  const seen = new Set<string>();
  for (let p = upstreamPrune(stages, evalId); p !== undefined; p = upstreamPrune(stages, p)) {
    if (seen.has(p)) break;
    seen.add(p);
    chain.unshift(p);
  }
  return chain;
}

function round6(x: number): number {
  return Math.round(x * 1e6) / 1e6;
}

/** The target density of a pruning stage: its `with.density`, else what its metrics say. */
export function targetDensity(s: ChainStage): number {
  const given = s.params['density'];
  if (typeof given === 'number') return round6(given);
  const target = s.metrics?.['targetDensity'];
  return round6(typeof target === 'number' ? target : (s.metrics?.['density'] as number));
}

export function densityStep(s: ChainStage): DensityStep {
  const gradual = s.metrics?.['gradual'];
  const initial =
    gradual !== null && typeof gradual === 'object'
      ? (gradual as Record<string, unknown>)['initialSparsity']
      : undefined;
  return typeof initial === 'number'
    ? { density: targetDensity(s), from: round6(1 - initial) }
    : { density: targetDensity(s) };
}

/** `0.4 → 0.2 → 0.1`; a gradual step reads `1 ⇝ 0.05`. */
export function densityPathText(path: readonly DensityStep[]): string {
  return path
    .map((p) => (p.from !== undefined ? `${p.from} ⇝ ${p.density}` : String(p.density)))
    .join(' → ');
}
