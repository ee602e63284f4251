// The JSON Schemas of the icbs pruner and stage (schemas/pruners/icbs.schema.json and
// schemas/stages/icbs.schema.json), with `solver` checked against the schema of each built-in
// solver (an if/then per name), so a typo in solver parameters is a recipe error at validate
// time with its line and column. Plugin solvers are checked when the stage starts.
import type { JsonSchema } from '../plugin-api/schema.js';
import { builtinSolvers } from '../solvers/index.js';
import { readSchema } from '../util/schemas.js';

function solverBranches(): JsonSchema[] {
  return builtinSolvers.map((s) => {
    const rest = Object.fromEntries(
      Object.entries(s.schema).filter(([key]) => !['$schema', '$id', 'title'].includes(key)),
    );
    const properties = (rest.properties ?? {}) as Record<string, unknown>;
    return {
      if: { properties: { uses: { const: s.name } } },
      then: { ...rest, properties: { ...properties, uses: { const: s.name } } },
    };
  });
}

function withSolverChecks(base: JsonSchema): JsonSchema {
  const properties = base.properties as Record<string, Record<string, unknown>>;
  return {
    ...base,
    properties: { ...properties, solver: { ...properties.solver, allOf: solverBranches() } },
  };
}

let pruner: JsonSchema | undefined;
let stage: JsonSchema | undefined;

export function icbsPrunerSchema(): JsonSchema {
  pruner ??= withSolverChecks(readSchema('pruners/icbs.schema.json'));
  return pruner;
}

export function icbsStageSchema(): JsonSchema {
  stage ??= withSolverChecks(readSchema('stages/icbs.schema.json'));
  return stage;
}
