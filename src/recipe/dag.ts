// The stage graph of a resolved recipe: `needs` edges checked (missing, self, cycles, input
// kinds) and a topological order that is stable — among stages ready at the same time, file
// order wins, so plans and logs read like the recipe.
import { ErrorCode, ScalpelError } from '../errors.js';
import type { ResolvedRecipe, ResolvedStage } from './types.js';
import { suggestionHint } from '../suggest.js';

export interface DagNode {
  readonly id: string;
  readonly stage: ResolvedStage;
  /** Position in the recipe file (0-based). */
  readonly index: number;
  /** Ids of the stages this one reads, in `needs` order. */
  readonly needs: readonly string[];
  /** Ids of the stages that read this one, in file order. */
  readonly dependents: readonly string[];
}

export interface Dag {
  /** All nodes in topological order (dependencies first, ties broken by file order). */
  readonly order: readonly DagNode[];
  node(id: string): DagNode;
  /** Nodes with no needs. */
  readonly roots: readonly DagNode[];
  /** Nodes nothing depends on. */
  readonly leaves: readonly DagNode[];
  /** `id` and everything it (transitively) needs, in topological order. */
  ancestorsOf(id: string): DagNode[];
}

export function buildDag(recipe: ResolvedRecipe): Dag {
  const stages = recipe.stages;
  if (stages.length === 0) {
    throw new ScalpelError(ErrorCode.Graph, 'the recipe has no stages', {
      location: recipe.locate('stages'),
      hint: 'add at least one stage under `stages:`',
    });
  }
  const byId = new Map(stages.map((s, i) => [s.id, { stage: s, index: i }]));
  const ids = stages.map((s) => s.id);

  for (const s of stages) {
    const seen = new Set<string>();
    s.needs.forEach((need, j) => {
      const location = recipe.locate(['stages', s.id, 'needs', String(j)].join('.'));
      if (need === s.id) {
        throw new ScalpelError(ErrorCode.Graph, `stage '${s.id}' needs itself`, {
          location,
          stageId: s.id,
          hint: `remove '${need}' from stages.${s.id}.needs`,
        });
      }
      if (!byId.has(need)) {
        throw new ScalpelError(
          ErrorCode.Graph,
          `stage '${s.id}' needs '${need}', but there is no stage '${need}'`,
          {
            location,
            stageId: s.id,
            hint: suggestionHint(
              need,
              ids.filter((id) => id !== s.id),
              'stage id',
            ),
          },
        );
      }
      if (seen.has(need)) {
        throw new ScalpelError(ErrorCode.Graph, `stage '${s.id}' lists '${need}' twice in needs`, {
          location,
          stageId: s.id,
          hint: 'list each needed stage once',
        });
      }
      seen.add(need);
    });
  }

  const cycle = findCycle(stages, byId);
  if (cycle !== undefined) {
    const [from, to] = [cycle[0] ?? '', cycle[1] ?? ''];
    const fromStage = byId.get(from)?.stage;
    const j = fromStage?.needs.indexOf(to) ?? -1;
    throw new ScalpelError(ErrorCode.Graph, `stages form a cycle: ${cycle.join(' → ')}`, {
      location: recipe.locate(`stages.${from}.needs.${j}`),
      hint: 'a stage can only need stages that do not (directly or indirectly) need it; remove one of these needs',
    });
  }

  checkInputKinds(recipe, byId);

  // Kahn's algorithm; the ready set is kept sorted by file position.
  const dependents = new Map<string, string[]>(ids.map((id) => [id, []]));
  const missing = new Map<string, number>();
  for (const s of stages) {
    missing.set(s.id, s.needs.length);
    for (const n of s.needs) dependents.get(n)?.push(s.id);
  }
  const ready = stages.filter((s) => s.needs.length === 0).map((s) => s.id);
  const orderIds: string[] = [];
  while (ready.length > 0) {
    ready.sort((a, b) => (byId.get(a)?.index ?? 0) - (byId.get(b)?.index ?? 0));
    const id = ready.shift() as string;
    orderIds.push(id);
    for (const d of dependents.get(id) ?? []) {
      const left = (missing.get(d) ?? 0) - 1;
      missing.set(d, left);
      if (left === 0) ready.push(d);
    }
  }

  const nodes = new Map<string, DagNode>();
  for (const s of stages) {
    nodes.set(s.id, {
      id: s.id,
      stage: s,
      index: byId.get(s.id)?.index ?? 0,
      needs: s.needs,
      dependents: dependents.get(s.id) ?? [],
    });
  }
  const get = (id: string): DagNode => {
    const n = nodes.get(id);
    if (n === undefined) {
      throw new ScalpelError(ErrorCode.Graph, `no stage '${id}' in the recipe`, {
        hint: suggestionHint(id, ids, 'stage id'),
      });
    }
    return n;
  };
  const order = orderIds.map(get);
  return {
    order,
    node: get,
    roots: order.filter((n) => n.needs.length === 0),
    leaves: order.filter((n) => n.dependents.length === 0),
    ancestorsOf(id: string): DagNode[] {
      const wanted = new Set<string>();
      const visit = (x: string): void => {
        if (wanted.has(x)) return;
        wanted.add(x);
        for (const n of get(x).needs) visit(n);
      };
      visit(id);
      return order.filter((n) => wanted.has(n.id));
    },
  };
}

/** A cycle as [a, b, …, a], starting at the stage that comes first in the file; or undefined. */
function findCycle(
  stages: readonly ResolvedStage[],
  byId: Map<string, { stage: ResolvedStage; index: number }>,
): string[] | undefined {
  const state = new Map<string, 'active' | 'done'>();
  const stack: string[] = [];
  const visit = (id: string): string[] | undefined => {
    state.set(id, 'active');
    stack.push(id);
    for (const n of byId.get(id)?.stage.needs ?? []) {
      const st = state.get(n);
      if (st === 'active') {
        const cyc = stack.slice(stack.indexOf(n));
        return rotateToFirst(cyc, byId);
      }
      if (st === undefined) {
        const found = visit(n);
        if (found !== undefined) return found;
      }
    }
    stack.pop();
    state.set(id, 'done');
    return undefined;
  };
  for (const s of stages) {
    if (state.get(s.id) === undefined) {
      const found = visit(s.id);
      if (found !== undefined) return found;
    }
  }
  return undefined;
}

/**
 * The DFS finds the cycle along `needs` edges (a needs b needs c needs a). Start it at the
 * stage earliest in the file so the message and location are predictable.
 */
function rotateToFirst(cycle: string[], byId: Map<string, { index: number }>): string[] {
  let best = 0;
  cycle.forEach((id, i) => {
    if ((byId.get(id)?.index ?? 0) < (byId.get(cycle[best] ?? '')?.index ?? 0)) best = i;
  });
  const rotated = [...cycle.slice(best), ...cycle.slice(0, best)];
  return [...rotated, rotated[0] ?? ''];
}

/** Every required input kind of a stage type must be produced by one of the stage's needs. */
function checkInputKinds(
  recipe: ResolvedRecipe,
  byId: Map<string, { stage: ResolvedStage; index: number }>,
): void {
  for (const s of recipe.stages) {
    const inputs = s.type.inputsFor?.(s.params, recipe.registry) ?? s.type.inputs;
    if (inputs === undefined) continue;
    const provided = s.needs.map((n) => ({ id: n, kind: byId.get(n)?.stage.type.output ?? '' }));
    for (const input of inputs) {
      const matching = provided.filter((p) => p.kind === input.kind);
      const where = recipe.locate(s.needs.length > 0 ? `stages.${s.id}.needs` : `stages.${s.id}`);
      if (matching.length === 0 && input.optional !== true) {
        const offered =
          provided.length > 0 ? provided.map((p) => `${p.id} (${p.kind})`).join(', ') : 'none';
        const producers = recipe.stages
          .filter((o) => o.id !== s.id && o.type.output === input.kind)
          .map((o) => o.id);
        const why = input.reason !== undefined ? ` (${input.reason})` : '';
        throw new ScalpelError(
          ErrorCode.Graph,
          `stage '${s.id}' (${s.uses}) needs an input of kind '${input.kind}'${why}, but none of its needs produces one (needs: ${offered})`,
          {
            location: where,
            stageId: s.id,
            hint:
              producers.length > 0
                ? `add ${producers.map((p) => `'${p}'`).join(' or ')} to stages.${s.id}.needs`
                : `add a stage that produces '${input.kind}'${producedBy(recipe, input.kind)} and list it in stages.${s.id}.needs`,
          },
        );
      }
      if (matching.length > 1 && input.multiple !== true) {
        throw new ScalpelError(
          ErrorCode.Graph,
          `stage '${s.id}' (${s.uses}) takes one input of kind '${input.kind}', but its needs give ${matching.length}: ${matching.map((m) => m.id).join(', ')}`,
          { location: where, stageId: s.id, hint: `keep only one of them in stages.${s.id}.needs` },
        );
      }
    }
  }
}

/** " (uses: calibrate)": the registered stage types whose output is `kind`, for hints. */
function producedBy(recipe: ResolvedRecipe, kind: string): string {
  const types = recipe.registry
    .stageNames()
    .filter((n) => recipe.registry.stage(n).output === kind);
  return types.length > 0 ? ` (uses: ${types.join(' or ')})` : '';
}
