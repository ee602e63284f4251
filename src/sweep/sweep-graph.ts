// All trials of a sweep as ONE execution graph: each trial is planned like a plain run (same node
// hashes), then nodes are merged by hash, so a load/train/calibrate stage that many trials share
// is a single node and runs once. The sweep's identity (for resuming) is the list of its trials'
// node hashes: the same command on the same files gives the same fingerprint.
import { createHash } from 'node:crypto';
import canonicalize from 'canonicalize';
import type { BackendChoice } from '../recipe/types.js';
import type { SweepDefinition, Trial } from './sweep-types.js';
import { planResolved, type ExecNode, type Plan } from '../engine/plan.js';

export interface TrialPlan {
  readonly trial: Trial;
  readonly plan: Plan;
  /** Distinct node hashes of this trial. */
  readonly hashes: ReadonlySet<string>;
}

export interface SweepGraph {
  readonly trials: readonly TrialPlan[];
  /** sha256 over the trials' indices, parameters and node hashes. */
  readonly fingerprint: string;
}

export interface SweepPlanOptions {
  readonly backend?: BackendChoice | undefined;
  readonly noCache?: boolean;
  readonly cacheDir?: string | undefined;
  readonly cwd?: string | undefined;
}

/** Plan every trial (hashes, cache status). Nothing runs. */
export async function planSweep(
  def: SweepDefinition,
  opts: SweepPlanOptions = {},
): Promise<SweepGraph> {
  const trials: TrialPlan[] = [];
  for (const trial of def.trials) {
    const plan = await planResolved(trial.recipe, {
      ...(opts.backend !== undefined ? { backend: opts.backend } : {}),
      ...(opts.cacheDir !== undefined ? { cacheDir: opts.cacheDir } : {}),
      ...(opts.cwd !== undefined ? { cwd: opts.cwd } : {}),
      noCache: opts.noCache === true,
    });
    trials.push({ trial, plan, hashes: new Set(plan.exec.map((n) => n.key)) });
  }
  const identity = trials.map((t) => ({
    index: t.trial.index,
    parameters: t.trial.parameters,
    seed: t.trial.seed,
    nodes: t.plan.nodes.map((n) => [n.id, n.hash]),
  }));
  const fingerprint = createHash('sha256')
    .update(canonicalize({ name: def.name, trials: identity }) ?? '')
    .digest('hex');
  return { trials, fingerprint };
}

/**
 * The merged execution graph of the given trials, in dependency order. A node shared by several
 * trials appears once (named after the first trial that has it).
 */
export function mergeTrials(trials: readonly TrialPlan[]): ExecNode[] {
  const merged = new Map<string, ExecNode>();
  for (const t of trials) {
    for (const n of t.plan.exec) {
      if (!merged.has(n.key)) merged.set(n.key, { ...n, stageIds: [...n.stageIds] });
    }
  }
  // Each plan lists its nodes in dependency order and a node's inputs belong to the same plan,
  // so first-seen order across plans is a valid dependency order too.
  return [...merged.values()];
}

/** For each hash, the trials (indices) whose graph contains it. */
export function trialsByHash(trials: readonly TrialPlan[]): Map<string, number[]> {
  const out = new Map<string, number[]>();
  for (const t of trials) {
    for (const h of t.hashes) {
      const list = out.get(h);
      if (list === undefined) out.set(h, [t.trial.index]);
      else list.push(t.trial.index);
    }
  }
  return out;
}
