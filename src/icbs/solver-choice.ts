// The block solver named by `solver: { uses, …params }`: looked up in the registry (built-ins
// only when the caller passes none) and its parameters validated against the solver's schema,
// defaults filled in. `solverIdentity` is what of the solver enters the node hash.
import { ErrorCode, ScalpelError } from '../errors.js';
import type { RegistryView } from '../plugin-api/registry-view.js';
import type { QuboSolver } from '../plugin-api/solver.js';
import { compileSchema } from '../util/ajv-instance.js';
import { builtinSolvers } from '../solvers/index.js';
import { icbsDefaults, type SolverSpec } from './params.js';
import type { IcbsSolver } from './run-icbs.js';

export function resolveSolver(spec: SolverSpec, registry: RegistryView | undefined): IcbsSolver {
  const { uses, ...rest } = spec;
  let solver: QuboSolver | undefined;
  if (registry !== undefined) solver = registry.solver(uses);
  else solver = builtinSolvers.find((s) => s.name === uses);
  if (solver === undefined) {
    throw new ScalpelError(ErrorCode.UnknownName, `icbs: unknown solver '${uses}'`, {
      hint: `built-in solvers: ${builtinSolvers.map((s) => s.name).join(', ')}`,
    });
  }
  const params = structuredClone(rest) as Record<string, unknown>;
  const validate = compileSchema(solver.schema);
  if (!validate(params)) {
    const detail = (validate.errors ?? [])
      .map(
        (e) =>
          `${e.instancePath === '' ? 'solver' : `solver${e.instancePath.replace(/\//g, '.')}`} ${e.message ?? 'is invalid'}${e.params && 'additionalProperty' in e.params ? ` ('${String(e.params.additionalProperty)}')` : ''}`,
      )
      .join('; ');
    throw new ScalpelError(
      ErrorCode.RecipeSchema,
      `icbs: invalid parameters for solver '${uses}': ${detail}`,
      {
        hint: `see schemas/solvers/${uses}.schema.json (or \`scalpel stages\`) for the parameters of '${uses}'`,
      },
    );
  }
  delete params.uses;
  return { solver, params };
}

/** What of the chosen solver enters the node hash: a new version or plugin reruns the node. */
export interface SolverIdentity {
  readonly name: string;
  readonly version: string;
  readonly origin: string;
}

/**
 * The identity of the solver `params.solver.uses` names (the schema default when absent). An
 * unknown name throws the registry's E_UNKNOWN_NAME (schema validation normally catches it first).
 */
export function solverIdentity(
  params: Record<string, unknown>,
  registry: RegistryView,
): SolverIdentity {
  const spec = params.solver as Partial<SolverSpec> | undefined;
  const name = spec?.uses ?? icbsDefaults.solver.uses;
  return {
    name,
    version: registry.solver(name).version,
    origin: registry.originOf('solver', name),
  };
}
