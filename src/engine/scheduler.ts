// Runs a DAG of nodes with bounded concurrency (p-queue). Generic over the node type: it knows
// only keys (node hashes) and needs, so a recipe run and a sweep (many recipes merged into one DAG
// keyed by hash) use the same scheduler. A node starts when every need succeeded; a failure skips
// all its dependents (recording the root cause) while independent branches carry on. On abort
// nothing new starts, queued nodes are skipped, and running nodes get a grace period to stop.
import PQueue from 'p-queue';
import { ErrorCode, ScalpelError } from '../errors.js';

export type NodeStatus = 'ran' | 'cached' | 'failed' | 'skipped' | 'interrupted';

export interface SchedulerNode {
  /** Unique key (the node hash). */
  readonly key: string;
  /** Keys of the nodes this one needs. */
  readonly needs: readonly string[];
}

export interface NodeOutcome {
  readonly status: NodeStatus;
  /** Epoch ms when execution started (absent for nodes that never started). */
  readonly startedAt?: number;
  readonly durationMs: number;
  /** What the node threw (status 'failed' or 'interrupted'). */
  readonly error?: unknown;
  /** Why a node was skipped: the failed node at the root of it, or the interruption. */
  readonly skipped?:
    { readonly reason: 'failed'; readonly key: string } | { readonly reason: 'interrupted' };
}

export interface ScheduleOptions<N extends SchedulerNode> {
  /** Maximum number of nodes executing at once (>= 1). */
  readonly jobs: number;
  /** Aborting stops the run: see the file comment. */
  readonly signal?: AbortSignal | undefined;
  /** How long running nodes may take to stop after an abort; default 3000 ms. */
  readonly graceMs?: number;
  /** Execute one node (all its needs succeeded); resolves to how it was satisfied. */
  execute(node: N): Promise<'ran' | 'cached'>;
  /** Called once per node when its outcome is known (for logging). */
  onOutcome?(node: N, outcome: NodeOutcome): void;
}

function checkGraph<N extends SchedulerNode>(nodes: readonly N[]): Map<string, N> {
  const byKey = new Map<string, N>();
  for (const n of nodes) {
    if (byKey.has(n.key))
      throw new ScalpelError(ErrorCode.Internal, `scheduler: duplicate node key ${n.key}`);
    byKey.set(n.key, n);
  }
  for (const n of nodes) {
    for (const k of n.needs) {
      if (!byKey.has(k))
        throw new ScalpelError(ErrorCode.Internal, `scheduler: node ${n.key} needs unknown ${k}`);
    }
  }
  // Kahn's algorithm: a cycle would otherwise wait forever (recipes are checked earlier; this
  // guards other callers such as sweeps).
  const indegree = new Map<string, number>();
  const users = new Map<string, string[]>(nodes.map((n) => [n.key, []]));
  for (const n of nodes) {
    const needs = new Set(n.needs);
    indegree.set(n.key, needs.size);
    for (const k of needs) users.get(k)?.push(n.key);
  }
  const ready = nodes.filter((n) => indegree.get(n.key) === 0).map((n) => n.key);
  let seen = 0;
  for (let k = ready.pop(); k !== undefined; k = ready.pop()) {
    seen++;
    for (const u of users.get(k) ?? []) {
      const left = (indegree.get(u) ?? 0) - 1;
      indegree.set(u, left);
      if (left === 0) ready.push(u);
    }
  }
  if (seen !== nodes.length)
    throw new ScalpelError(ErrorCode.Internal, 'scheduler: the node graph has a cycle');
  return byKey;
}

// A function call, so TypeScript does not keep a narrowing of `signal.aborted` across awaits.
function isAborted(signal: AbortSignal | undefined): boolean {
  return signal?.aborted === true;
}

/** Run every node; resolves with the outcome of each (by key) once all are decided. */
export async function schedule<N extends SchedulerNode>(
  nodes: readonly N[],
  opts: ScheduleOptions<N>,
): Promise<Map<string, NodeOutcome>> {
  const byKey = checkGraph(nodes);
  const order = new Map(nodes.map((n, i) => [n.key, i]));
  const dependents = new Map<string, N[]>(nodes.map((n) => [n.key, []]));
  const unmet = new Map<string, number>();
  for (const n of nodes) {
    const needs = new Set(n.needs);
    unmet.set(n.key, needs.size);
    for (const k of needs) dependents.get(k)?.push(n);
  }

  const outcomes = new Map<string, NodeOutcome>();
  const running = new Map<string, number>();
  const queue = new PQueue({ concurrency: Math.max(1, Math.floor(opts.jobs)) });
  const signal = opts.signal;
  let settle = (): void => {};
  const allDone = new Promise<void>((res) => {
    settle = res;
  });

  const decide = (node: N, outcome: NodeOutcome): void => {
    if (outcomes.has(node.key)) return; // a late result after the grace period expired
    outcomes.set(node.key, outcome);
    opts.onOutcome?.(node, outcome);
    if (outcomes.size === nodes.length) settle();
  };

  const skipDependents = (key: string, skipped: NonNullable<NodeOutcome['skipped']>): void => {
    for (const d of dependents.get(key) ?? []) {
      if (outcomes.has(d.key) || running.has(d.key)) continue;
      decide(d, { status: 'skipped', durationMs: 0, skipped });
      skipDependents(d.key, skipped);
    }
  };

  const start = (node: N): void => {
    const priority = nodes.length - (order.get(node.key) ?? 0); // earlier in the list runs first
    void queue.add(
      async () => {
        if (signal?.aborted === true) {
          decide(node, { status: 'skipped', durationMs: 0, skipped: { reason: 'interrupted' } });
          return;
        }
        const startedAt = Date.now();
        running.set(node.key, startedAt);
        let result: 'ran' | 'cached';
        try {
          result = await opts.execute(node);
        } catch (error) {
          running.delete(node.key);
          const durationMs = Date.now() - startedAt;
          if (isAborted(signal)) {
            decide(node, { status: 'interrupted', startedAt, durationMs, error });
            skipDependents(node.key, { reason: 'interrupted' });
          } else {
            decide(node, { status: 'failed', startedAt, durationMs, error });
            skipDependents(node.key, { reason: 'failed', key: node.key });
          }
          return;
        }
        running.delete(node.key);
        decide(node, { status: result, startedAt, durationMs: Date.now() - startedAt });
        for (const d of dependents.get(node.key) ?? []) {
          const left = (unmet.get(d.key) ?? 0) - 1;
          unmet.set(d.key, left);
          if (left === 0 && !outcomes.has(d.key)) start(d);
        }
      },
      { priority },
    );
  };

  const onAbort = (): void => {
    queue.clear();
    for (const n of nodes) {
      if (!outcomes.has(n.key) && !running.has(n.key)) {
        decide(n, { status: 'skipped', durationMs: 0, skipped: { reason: 'interrupted' } });
      }
    }
  };

  if (nodes.length === 0) return outcomes;
  if (signal?.aborted === true) {
    onAbort();
    return outcomes;
  }
  signal?.addEventListener('abort', onAbort, { once: true });
  try {
    for (const n of nodes) if (unmet.get(n.key) === 0) start(n);
    if (signal === undefined) {
      await allDone;
    } else {
      // After an abort, wait for running nodes at most graceMs, then record them as interrupted.
      let onAbortWake = (): void => {};
      const aborted = new Promise<void>((res) => {
        onAbortWake = res;
        signal.addEventListener('abort', onAbortWake, { once: true });
      });
      await Promise.race([allDone, aborted]);
      signal.removeEventListener('abort', onAbortWake);
      if (outcomes.size < nodes.length) {
        let timer: NodeJS.Timeout | undefined;
        const grace = new Promise<void>((res) => {
          timer = setTimeout(res, opts.graceMs ?? 3000);
        });
        await Promise.race([allDone, grace]);
        clearTimeout(timer);
        for (const [key, startedAt] of running) {
          const node = byKey.get(key);
          if (node !== undefined) {
            decide(node, {
              status: 'interrupted',
              startedAt,
              durationMs: Date.now() - startedAt,
              error: new ScalpelError(
                ErrorCode.Interrupted,
                'did not stop within the grace period',
              ),
            });
          }
        }
      }
    }
  } finally {
    signal?.removeEventListener('abort', onAbort);
  }
  if (outcomes.size < nodes.length) {
    throw new ScalpelError(ErrorCode.Internal, 'scheduler: some nodes never became ready (cycle?)');
  }
  return outcomes;
}
