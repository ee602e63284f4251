// The JSON Schemas of the icbs pruner and stage (schemas/pruners/icbs.schema.json and
// schemas/stages/icbs.schema.json), with `solver` checked against the registered solvers: `uses`
// must name one, and its other keys are checked against that solver's schema (an if/then per
// name), so a typo in either is a recipe error at validate time with its line and column. The
// static schemas know the built-in solvers; `schemaFor(registry)` adds those of plugins. With an
// N:M `pattern`, `uses` must name a solver that declares `groupConstraints` (validate time).
import type { JsonSchema } from '../plugin-api/schema.js';
import type { QuboSolver } from '../plugin-api/solver.js';
import type { RegistryView } from '../plugin-api/registry-view.js';
import { builtinSolvers } from '../solvers/index.js';
import { readSchema } from '../util/schemas.js';

function solverBranches(solvers: readonly QuboSolver[]): JsonSchema[] {
  return solvers.map((s) => {
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

/** The solvers that keep per-group cardinalities (N:M blocks). */
export function groupCapableSolvers(solvers: readonly QuboSolver[]): string[] {
  return solvers.filter((s) => s.groupConstraints === true).map((s) => s.name);
}

/** `pattern` given → `solver.uses` is one of the group-capable solvers. */
function patternSolverRule(solvers: readonly QuboSolver[]): JsonSchema {
  const capable = groupCapableSolvers(solvers);
  return {
    if: { required: ['pattern'] },
    then: {
      properties: {
        solver:
          capable.length > 0
            ? {
                properties: {
                  uses: {
                    enum: capable,
                    description: `with pattern (N:M), a solver that keeps per-group counts: ${capable.join(', ')}`,
                  },
                },
              }
            : false,
      },
    },
  };
}

/**
 * For each solver with a size limit: when it is the chosen solver, `blockSize` (the most QUBO
 * variables a step asks for) must not exceed it. The description becomes the error's hint.
 */
function blockSizeLimits(base: JsonSchema, solvers: readonly QuboSolver[]): JsonSchema[] {
  const blockSize = (base.properties as Record<string, { default?: unknown }> | undefined)
    ?.blockSize;
  const defaultSize = typeof blockSize?.default === 'number' ? blockSize.default : Infinity;
  return solvers.flatMap((s) =>
    s.maxVariables === undefined
      ? []
      : [
          {
            if: {
              properties: {
                solver: { properties: { uses: { const: s.name } }, required: ['uses'] },
              },
              required: ['solver'],
            },
            then: {
              // The default block is too large for such a solver: then it must be written.
              ...(defaultSize > s.maxVariables ? { required: ['blockSize'] } : {}),
              properties: {
                blockSize: {
                  maximum: s.maxVariables,
                  description: `solver '${s.name}' handles blocks of at most ${s.maxVariables} variables; set blockSize ≤ ${s.maxVariables} (and k below it), or use solver 'sa' for larger blocks`,
                },
              },
            },
          },
        ],
  );
}

function withSolverChecks(base: JsonSchema, solvers: readonly QuboSolver[]): JsonSchema {
  const limits = blockSizeLimits(base, solvers);
  const properties = base.properties as Record<string, Record<string, unknown>>;
  const solver = properties.solver ?? {};
  const solverProps = (solver.properties ?? {}) as Record<string, Record<string, unknown>>;
  const allOf = Array.isArray(base.allOf) ? (base.allOf as JsonSchema[]) : [];
  return {
    ...base,
    // limits first: a later rule may fill blockSize's default (1024), hiding that it is missing
    allOf: [...limits, ...allOf, patternSolverRule(solvers)],
    properties: {
      ...properties,
      solver: {
        ...solver,
        properties: {
          ...solverProps,
          uses: { ...solverProps.uses, enum: solvers.map((s) => s.name) },
        },
        allOf: solverBranches(solvers),
      },
    },
  };
}

/** The solvers of a registry, in name order. */
function registeredSolvers(registry: RegistryView): QuboSolver[] {
  return registry.solverNames().map((name) => registry.solver(name));
}

let pruner: JsonSchema | undefined;
let stage: JsonSchema | undefined;

export function icbsPrunerSchema(): JsonSchema {
  pruner ??= withSolverChecks(readSchema('pruners/icbs.schema.json'), builtinSolvers);
  return pruner;
}

export function icbsStageSchema(): JsonSchema {
  stage ??= withSolverChecks(readSchema('stages/icbs.schema.json'), builtinSolvers);
  return stage;
}

/** The pruner's schema for the solvers of `registry` (built-in and plugins'). */
export function icbsPrunerSchemaFor(registry: RegistryView): JsonSchema {
  return withSolverChecks(readSchema('pruners/icbs.schema.json'), registeredSolvers(registry));
}

/** The stage's schema for the solvers of `registry` (built-in and plugins'). */
export function icbsStageSchemaFor(registry: RegistryView): JsonSchema {
  return withSolverChecks(readSchema('stages/icbs.schema.json'), registeredSolvers(registry));
}
