// Run and sweep directories → evaluation rows. An evaluation is a stage whose metrics are not a
// pruning stage's; its method and density come from the nearest pruning stage upstream (a stage
// whose metrics report `method` and `density`) — or 'dense' at density 1 when there is none. The
// density used for grouping is the prune stage's target (`with.density`), falling back to the
// density it reports. Works the same for a run with several prune→eval branches and for a sweep.
// Each row carries its lineage (lineage.ts): what makes two rows one configuration.
import { existsSync, readFileSync, statSync } from 'node:fs';
import { basename, join, resolve } from 'node:path';
import YAML from 'yaml';
import { ErrorCode, ScalpelError } from '../errors.js';
import { recordState } from '../engine/run-status-file.js';
import { parseTrialsJsonl } from '../sweep/sweep-record.js';
import { isObject } from '../util/is-object.js';
import { displayName, lineageOf, stagesBetween, type Lineage } from './lineage.js';
import {
  densityStep,
  isPruneMetrics,
  pruneChain,
  targetDensity,
  type DensityStep,
} from './rounds.js';

export { isPruneMetrics } from './rounds.js';

export interface StageInfo {
  readonly uses: string;
  /** Node hash, when recorded: equal hashes are one computation, counted once. */
  readonly hash: string | undefined;
  readonly needs: readonly string[];
  readonly params: Readonly<Record<string, unknown>>;
  readonly metrics: Readonly<Record<string, unknown>> | undefined;
}

/** One evaluation of one trial (or run). */
export interface EvalRow {
  readonly source: string;
  /** Trial index in a sweep; undefined for a run. */
  readonly trial: number | undefined;
  readonly seed: number;
  readonly evalStage: string;
  readonly pruneStage: string | undefined;
  /** The pruning method (`icbs`), or `dense` when no stage upstream pruned. */
  readonly method: string;
  /** What the evaluated model is: the method, then each stage that changed it (`icbs + finetune`). */
  readonly name: string;
  /** The evaluation's full lineage without seeds: equal keys are seed repeats of one configuration. */
  readonly lineage: Lineage;
  /** The prune stage's own lineage (its curve belongs to it, whatever was evaluated downstream). */
  readonly pruneLineage: Lineage | undefined;
  /** Target density (rounded to 6 decimals). */
  readonly density: number;
  readonly metrics: Readonly<Record<string, unknown>>;
  readonly pruneMetrics: Readonly<Record<string, unknown>> | undefined;
  readonly parameters: Readonly<Record<string, unknown>>;
  /** The densities of every pruning stage the model went through, first to last (rounds.ts). */
  readonly densityPath?: readonly DensityStep[];
  /** In a schedule of rounds: this evaluation's round (1-based) and the schedule's round count. */
  readonly round?: number;
  readonly rounds?: number;
  /** Stages of the schedule other than the evaluation (their parameters are no table columns). */
  readonly roundStages?: readonly string[];
}

export interface SourceInfo {
  readonly dir: string;
  readonly kind: 'run' | 'sweep';
  readonly name: string;
  /** recipe.resolved.yaml or sweep.resolved.yaml as text. */
  readonly resolvedYaml: string;
  readonly lock: Record<string, unknown> | undefined;
  readonly summary: Record<string, unknown> | undefined;
  /** Number of trials (sweeps) or 1. */
  readonly units: number;
}

export interface ReportData {
  readonly sources: readonly SourceInfo[];
  readonly rows: readonly EvalRow[];
}

interface Unit {
  readonly source: string;
  readonly trial: number | undefined;
  readonly seed: number;
  readonly parameters: Readonly<Record<string, unknown>>;
  readonly stages: ReadonlyMap<string, StageInfo>;
}

function readJson(file: string): unknown {
  try {
    return JSON.parse(readFileSync(file, 'utf8')) as unknown;
  } catch (e) {
    throw new ScalpelError(
      ErrorCode.Data,
      `cannot read ${file}: ${e instanceof Error ? e.message : String(e)}`,
      {
        hint: 'the run record is damaged; rerun the recipe or sweep',
        cause: e,
      },
    );
  }
}

function optionalJson(file: string): Record<string, unknown> | undefined {
  if (!existsSync(file)) return undefined;
  const v = readJson(file);
  return isObject(v) ? v : undefined;
}

/**
 * An evaluation is a stage that reports a quality number (`accuracy` or `loss`, as the evaluate
 * stage does) and is not itself a pruning stage. Loading, calibration and export stages report
 * numbers too (parameter counts, sizes) but are not evaluations.
 */
export function isEvaluationMetrics(m: unknown): boolean {
  return (
    isObject(m) &&
    !isPruneMetrics(m) &&
    (typeof m['accuracy'] === 'number' || typeof m['loss'] === 'number')
  );
}

function unitRows(u: Unit): EvalRow[] {
  const evals = [...u.stages.entries()].filter(([, s]) => isEvaluationMetrics(s.metrics));
  const base = evals.map(([id, s]) => {
    const chain = pruneChain(u.stages, id);
    const pruneId = chain[chain.length - 1];
    const p = pruneId !== undefined ? u.stages.get(pruneId) : undefined;
    const pm = p?.metrics;
    const method =
      p === undefined
        ? 'dense'
        : typeof pm?.['method'] === 'string'
          ? pm['method']
          : (p.uses ?? 'unknown');
    const density = p === undefined ? 1 : targetDensity(p);
    return { id, s, chain, pruneId, pm, density, method };
  });
  // A schedule: the evaluations whose chains start at one pruning stage; its longest chain
  // names it (`magnitude ×4 + finetune`), so every round's evaluation is a point of one line.
  const longest = new Map<string, string[]>();
  for (const r of base) {
    const first = r.chain[0];
    if (first !== undefined && r.chain.length > (longest.get(first)?.length ?? 0))
      longest.set(first, r.chain);
  }
  return base.map((r) => {
    const schedule = r.chain[0] !== undefined ? (longest.get(r.chain[0]) ?? r.chain) : r.chain;
    const rounds = schedule.length;
    const methodOf = (c: string): string => {
      const m = u.stages.get(c)?.metrics?.['method'];
      return typeof m === 'string' ? m : r.method;
    };
    const methods = [...new Set(schedule.map(methodOf))];
    const label = rounds > 1 ? `${methods.join(' → ')} ×${rounds}` : r.method;
    const first = r.chain[0];
    const roundStages =
      rounds > 1 && first !== undefined
        ? [first, ...stagesBetween(u.stages, r.id, first)]
        : undefined;
    return {
      source: u.source,
      trial: u.trial,
      seed: u.seed,
      evalStage: r.id,
      pruneStage: r.pruneId,
      method: r.method,
      name: displayName(label, u.stages, r.id, r.pruneId),
      lineage: lineageOf(u.stages, r.id),
      pruneLineage: r.pruneId !== undefined ? lineageOf(u.stages, r.pruneId) : undefined,
      density: r.density,
      metrics: r.s.metrics ?? {},
      pruneMetrics: r.pm,
      parameters: u.parameters,
      densityPath: r.chain.map((c) => densityStep(u.stages.get(c) as StageInfo)),
      ...(rounds > 1 ? { round: r.chain.length, rounds } : {}),
      ...(roundStages !== undefined ? { roundStages } : {}),
    };
  });
}

function readRun(dir: string): { info: SourceInfo; units: Unit[] } {
  const resolvedYaml = readFileSync(join(dir, 'recipe.resolved.yaml'), 'utf8');
  const recipe = YAML.parse(resolvedYaml) as unknown;
  const metricsDoc = readJson(join(dir, 'metrics.json'));
  if (!isObject(recipe) || !isObject(recipe['stages']) || !isObject(metricsDoc)) {
    throw new ScalpelError(ErrorCode.Data, `${dir} is not a readable run record`, {
      hint: 'expected recipe.resolved.yaml with stages and metrics.json',
    });
  }
  const lock = optionalJson(join(dir, 'lock.json'));
  const stages = new Map<string, StageInfo>();
  for (const [id, s] of Object.entries(recipe['stages'])) {
    if (!isObject(s)) continue;
    const m = metricsDoc[id];
    const node = isObject(lock?.['nodes']) ? lock['nodes'][id] : undefined;
    stages.set(id, {
      uses: String(s['uses']),
      hash: isObject(node) && typeof node['hash'] === 'string' ? node['hash'] : undefined,
      needs: Array.isArray(s['needs']) ? s['needs'].map(String) : [],
      params: isObject(s['with']) ? s['with'] : {},
      metrics: isObject(m) ? m : undefined,
    });
  }
  const seed = typeof recipe['seed'] === 'number' ? recipe['seed'] : 0;
  const name = typeof recipe['name'] === 'string' ? recipe['name'] : basename(dir);
  return {
    info: {
      dir,
      kind: 'run',
      name,
      resolvedYaml,
      lock,
      summary: optionalJson(join(dir, 'summary.json')),
      units: 1,
    },
    units: [{ source: dir, trial: undefined, seed, parameters: {}, stages }],
  };
}

function readSweep(dir: string): { info: SourceInfo; units: Unit[] } {
  const resolvedYaml = existsSync(join(dir, 'sweep.resolved.yaml'))
    ? readFileSync(join(dir, 'sweep.resolved.yaml'), 'utf8')
    : '';
  const doc = resolvedYaml !== '' ? (YAML.parse(resolvedYaml) as unknown) : undefined;
  const records = parseTrialsJsonl(readFileSync(join(dir, 'trials.jsonl'), 'utf8')).filter(
    (r) => r.status === 'ok',
  );
  const units: Unit[] = records.map((r) => {
    const stages = new Map<string, StageInfo>();
    for (const [id, n] of Object.entries(r.nodes)) {
      const m = r.metrics[id];
      stages.set(id, {
        uses: n.uses,
        hash: n.hash,
        needs: n.needs,
        params: isObject(n.params) ? n.params : {},
        metrics: isObject(m) ? m : undefined,
      });
    }
    return { source: dir, trial: r.index, seed: r.seed, parameters: r.parameters, stages };
  });
  const name = isObject(doc) && typeof doc['name'] === 'string' ? doc['name'] : basename(dir);
  return {
    info: {
      dir,
      kind: 'sweep',
      name,
      resolvedYaml,
      lock: optionalJson(join(dir, 'lock.json')),
      summary: optionalJson(join(dir, 'summary.json')),
      units: records.length,
    },
    units,
  };
}

/**
 * A warning for a record whose run has not finished (summary.json / sweep.json still say
 * `running`), and whether to skip it: a run has no results yet; a sweep's finished trials are
 * complete results and are kept.
 */
function unfinishedRecord(
  dir: string,
  given: string,
): { warning: string; skip: boolean } | undefined {
  const sweep = existsSync(join(dir, 'trials.jsonl'));
  const s = recordState(dir, sweep ? 'sweep.json' : 'summary.json');
  if (s.state !== 'running' && s.state !== 'killed') return undefined;
  const why =
    s.state === 'running'
      ? `is still running (process ${s.pid})`
      : 'did not finish (its process ended before the end of the run: killed?)';
  return sweep
    ? { warning: `sweep ${given} ${why}: using the trials it finished`, skip: false }
    : { warning: `skipping run ${given}: it ${why}`, skip: true };
}

export interface CollectOptions {
  /** Where warnings go (unfinished records); default stderr. */
  readonly warn?: (message: string) => void;
}

/** Read run and sweep directories. */
export function collectReportData(dirs: readonly string[], opts: CollectOptions = {}): ReportData {
  const warn = opts.warn ?? ((m: string) => process.stderr.write(`warning: ${m}\n`));
  const sources: SourceInfo[] = [];
  const rows: EvalRow[] = [];
  const seen = new Set<string>();
  for (const given of dirs) {
    const dir = resolve(given);
    if (!existsSync(dir) || !statSync(dir).isDirectory()) {
      throw new ScalpelError(ErrorCode.Io, `${given} is not a directory`, {
        hint: 'pass run directories (runs/<name>-<ts>) or sweep directories (sweeps/<name>-<ts>)',
      });
    }
    const unfinished = unfinishedRecord(dir, given);
    if (unfinished !== undefined) warn(unfinished.warning);
    if (unfinished?.skip === true) continue;
    let r: { info: SourceInfo; units: Unit[] };
    if (existsSync(join(dir, 'trials.jsonl'))) r = readSweep(dir);
    else if (existsSync(join(dir, 'metrics.json')) && existsSync(join(dir, 'recipe.resolved.yaml')))
      r = readRun(dir);
    else {
      throw new ScalpelError(
        ErrorCode.Io,
        `${given} is neither a run directory (metrics.json) nor a sweep directory (trials.jsonl)`,
        {
          hint: 'pass directories written by scalpel run or scalpel sweep',
        },
      );
    }
    sources.push(r.info);
    for (const u of r.units) {
      for (const row of unitRows(u)) {
        // A stage shared by several trials (e.g. the dense model's evaluation) is one result.
        const hash = u.stages.get(row.evalStage)?.hash;
        if (hash !== undefined) {
          if (seen.has(hash)) continue;
          seen.add(hash);
        }
        rows.push(row);
      }
    }
  }
  return { sources, rows };
}
