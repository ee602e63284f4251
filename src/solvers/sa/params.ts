// Parameters of the `sa` solver (schemas/solvers/sa.schema.json), defaults and checks for
// callers that bypass schema validation.
import { availableParallelism } from 'node:os';
import { ErrorCode, ScalpelError } from '../../errors.js';
import { readSchema, schemaDefaults } from '../../util/schemas.js';

export interface SaParams {
  /** Independent chains; the best state of all of them is returned. */
  restarts: number;
  betaInitial: number;
  betaFinal: number;
  betaFactor: number;
  /** Sweeps per temperature. */
  sweeps: number;
  /** Worker threads; 0 runs the chains in the calling thread. Default: available cores. */
  workers: number;
  /** Finish every chain with a steepest swap descent (anneal.ts swapDescent). */
  descent: boolean;
}

/** The defaults of schemas/solvers/sa.schema.json (read from it: one source). */
export const saDefaults = schemaDefaults(readSchema('solvers/sa.schema.json')) as Omit<
  SaParams,
  'workers'
>;

function num(
  params: Record<string, unknown>,
  key: Exclude<keyof SaParams, 'descent'>,
  fallback: number,
): number {
  const v = params[key];
  if (v === undefined) return fallback;
  if (typeof v !== 'number' || !Number.isFinite(v)) {
    throw new ScalpelError(
      ErrorCode.RecipeSchema,
      `solver 'sa': parameter '${key}' must be a finite number, got ${JSON.stringify(v)}`,
      { hint: 'see schemas/solvers/sa.schema.json for the parameters of the sa solver' },
    );
  }
  return v;
}

export function resolveSaParams(params: Record<string, unknown>): SaParams {
  const known = new Set([
    'restarts',
    'betaInitial',
    'betaFinal',
    'betaFactor',
    'sweeps',
    'workers',
    'descent',
  ]);
  const descent = params['descent'] ?? saDefaults.descent;
  if (typeof descent !== 'boolean') {
    throw new ScalpelError(
      ErrorCode.RecipeSchema,
      `solver 'sa': parameter 'descent' must be true or false, got ${JSON.stringify(descent)}`,
    );
  }
  for (const key of Object.keys(params)) {
    if (!known.has(key) && key !== 'uses') {
      throw new ScalpelError(ErrorCode.RecipeSchema, `solver 'sa': unknown parameter '${key}'`, {
        hint: `known parameters: ${[...known].join(', ')}`,
      });
    }
  }
  const p: SaParams = {
    restarts: num(params, 'restarts', saDefaults.restarts),
    betaInitial: num(params, 'betaInitial', saDefaults.betaInitial),
    betaFinal: num(params, 'betaFinal', saDefaults.betaFinal),
    betaFactor: num(params, 'betaFactor', saDefaults.betaFactor),
    sweeps: num(params, 'sweeps', saDefaults.sweeps),
    workers: num(params, 'workers', availableParallelism()),
    descent,
  };
  const bad = (what: string): never => {
    throw new ScalpelError(ErrorCode.RecipeSchema, `solver 'sa': ${what}`, {
      hint: 'see schemas/solvers/sa.schema.json for the parameters of the sa solver',
    });
  };
  if (!Number.isInteger(p.restarts) || p.restarts < 1)
    bad(`restarts must be an integer ≥ 1, got ${p.restarts}`);
  if (!Number.isInteger(p.sweeps) || p.sweeps < 1)
    bad(`sweeps must be an integer ≥ 1, got ${p.sweeps}`);
  if (!Number.isInteger(p.workers) || p.workers < 0)
    bad(`workers must be an integer ≥ 0, got ${p.workers}`);
  if (!(p.betaInitial > 0)) bad(`betaInitial must be > 0, got ${p.betaInitial}`);
  if (!(p.betaFinal >= p.betaInitial))
    bad(`betaFinal (${p.betaFinal}) must be ≥ betaInitial (${p.betaInitial})`);
  if (!(p.betaFactor > 1)) bad(`betaFactor must be > 1, got ${p.betaFactor}`);
  return p;
}
