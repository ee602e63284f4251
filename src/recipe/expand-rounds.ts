// Pruning in rounds. A stage with `repeat: { densities: [0.5, 0.3, 0.2, 0.1], finetune, evaluate }`
// is expanded, before validation, into ordinary stages: per density d a prune stage `<id>@d` (the
// stage as written, with `with.density: d`), optionally `<id>-finetune@d` on its output and
// `<id>-evaluate@d` on the round's final model; round r + 1 prunes round r's final model, so each
// round starts from the previous round's masks (the prune stage keeps them, run-pruner.ts). The
// expanded stages are validated, hashed, cached, planned and recorded like written ones, and node
// hashes hold no stage ids, so appending a density leaves the earlier rounds' hashes as they were.
// Errors about an expanded stage point at the construct it came from (aliasedYaml).
import { ErrorCode, ScalpelError } from '../errors.js';
import { createAjv, type ValidateFunction } from '../util/ajv-instance.js';
import { isObject } from '../util/is-object.js';
import { readSchema } from '../util/schemas.js';
import type { LocateOptions, ParsedYaml } from './parse-yaml.js';
import type { PathSegment, RecipePath } from './recipe-path.js';
import { schemaError } from './schema-errors.js';

/** The id of round `density` of a step: `prune@0.3`. */
export function roundId(prefix: string, density: number): string {
  return `${prefix}@${String(density)}`;
}

interface Step {
  readonly role: 'finetune' | 'evaluate';
  readonly prefix: string;
  readonly uses: string;
  readonly needs: readonly string[];
  readonly with: Record<string, unknown> | undefined;
  readonly description: string | undefined;
}

interface Alias {
  readonly from: readonly PathSegment[];
  readonly to: readonly PathSegment[];
}

let repeatValidator: ValidateFunction | undefined;

function validator(): ValidateFunction {
  repeatValidator ??= createAjv().compile(readSchema('repeat.schema.json'));
  return repeatValidator;
}

function needsList(value: unknown): string[] {
  if (typeof value === 'string') return [value];
  return Array.isArray(value) ? value.filter((v): v is string => typeof v === 'string') : [];
}

function fail(yaml: ParsedYaml, path: RecipePath, message: string, hint: string): ScalpelError {
  return new ScalpelError(ErrorCode.RecipeSchema, message, { location: yaml.locate(path), hint });
}

function stepOf(
  raw: unknown,
  role: Step['role'],
  stageId: string,
  defaultUses: string,
): Step | undefined {
  if (!isObject(raw)) return undefined;
  return {
    role,
    prefix: typeof raw.id === 'string' ? raw.id : `${stageId}-${role}`,
    uses: typeof raw.uses === 'string' ? raw.uses : defaultUses,
    needs: needsList(raw.needs),
    with: isObject(raw.with) ? raw.with : undefined,
    description: typeof raw.description === 'string' ? raw.description : undefined,
  };
}

/** Check `repeat:` of stage `id`; returns its densities (strictly decreasing, in (0, 1]). */
function checkRepeat(
  id: string,
  stage: Record<string, unknown>,
  yaml: ParsedYaml,
): { densities: number[]; steps: Step[] } {
  const base: PathSegment[] = ['stages', id, 'repeat'];
  const repeat = stage.repeat;
  const validate = validator();
  if (!validate(repeat)) {
    throw schemaError(validate.errors ?? [], {
      yaml,
      basePath: base,
      overrides: [],
      rootSchema: validate.schema,
    });
  }
  const r = repeat as Record<string, unknown>;
  const densities = r.densities as number[];
  for (let i = 1; i < densities.length; i++) {
    const prev = densities[i - 1] as number;
    const d = densities[i] as number;
    if (!(d < prev)) {
      throw fail(
        yaml,
        [...base, 'densities', i],
        `stages.${id}.repeat.densities.${i}: ${d} does not decrease from ${prev}; each round prunes more than the one before`,
        'list the densities from the largest to the smallest, each once, e.g. [0.5, 0.3, 0.2, 0.1]',
      );
    }
  }
  if (stage.with !== undefined && stage.with !== null && !isObject(stage.with)) {
    throw fail(
      yaml,
      ['stages', id, 'with'],
      `stages.${id}.with: expected a mapping of parameters`,
      'write with: { method: magnitude, … } (the rounds add density)',
    );
  }
  if (isObject(stage.with) && 'density' in stage.with) {
    throw fail(
      yaml,
      ['stages', id, 'with', 'density'],
      `stages.${id}.with.density: a repeated stage takes its densities from repeat.densities`,
      'remove with.density; each round prunes to the next entry of repeat.densities',
    );
  }
  if (needsList(stage.needs).length === 0) {
    throw fail(
      yaml,
      ['stages', id],
      `stages.${id}: a repeated stage needs the model its first round prunes`,
      'add needs: [<model stage>, …]; the first entry is the model, the others (calibration, dataset) are read by every round',
    );
  }
  const steps = [
    stepOf(r.finetune, 'finetune', id, 'finetune'),
    stepOf(r.evaluate, 'evaluate', id, 'evaluate'),
  ].filter((s): s is Step => s !== undefined);
  return { densities, steps };
}

interface Expanded {
  readonly stages: [string, Record<string, unknown>][];
  /** The stage the next round (and any stage that needs the repeated one) reads. */
  readonly lastModel: string;
  readonly aliases: Alias[];
}

function expandStage(id: string, stage: Record<string, unknown>, yaml: ParsedYaml): Expanded {
  const { densities, steps } = checkRepeat(id, stage, yaml);
  const [first, ...rest] = needsList(stage.needs);
  const { repeat: _repeat, description, ...written } = stage;
  const out: [string, Record<string, unknown>][] = [];
  const aliases: Alias[] = [];
  const n = densities.length;
  let model = first as string;
  densities.forEach((d, i) => {
    const round = `round ${i + 1} of ${n} of '${id}' (repeat)`;
    const pruneId = roundId(id, d);
    out.push([
      pruneId,
      {
        ...structuredClone(written),
        needs: [model, ...rest],
        with: { ...(isObject(written.with) ? structuredClone(written.with) : {}), density: d },
        description: `${typeof description === 'string' ? `${description}: ` : ''}${round}, prune to density ${d}`,
      },
    ]);
    aliases.push(
      {
        from: ['stages', pruneId, 'with', 'density'],
        to: ['stages', id, 'repeat', 'densities', i],
      },
      { from: ['stages', pruneId], to: ['stages', id] },
    );
    model = pruneId;
    let modelIn = pruneId;
    for (const step of steps) {
      const stepId = roundId(step.prefix, d);
      const at: PathSegment[] = ['stages', id, 'repeat', step.role];
      out.push([
        stepId,
        {
          uses: step.uses,
          needs: [modelIn, ...step.needs],
          ...(step.with !== undefined ? { with: structuredClone(step.with) } : {}),
          description: `${step.description !== undefined ? `${step.description}: ` : ''}${round}, ${step.role} at density ${d}`,
        },
      ]);
      step.needs.forEach((_, j) =>
        aliases.push({ from: ['stages', stepId, 'needs', j + 1], to: [...at, 'needs', j] }),
      );
      aliases.push({ from: ['stages', stepId], to: at });
      // The round's model goes through the fine-tune; an evaluation only reads it.
      if (step.role === 'finetune') {
        model = stepId;
        modelIn = stepId;
      }
    }
  });
  return { stages: out, lastModel: model, aliases };
}

/**
 * The recipe data with every `repeat:` stage expanded into its rounds, and a ParsedYaml whose
 * `locate` maps paths of expanded stages to the construct they came from. Data without any
 * `repeat:` is returned as it is.
 */
export function expandRounds(data: unknown, yaml: ParsedYaml): { data: unknown; yaml: ParsedYaml } {
  if (!isObject(data) || !isObject(data.stages)) return { data, yaml };
  const stages = data.stages;
  const repeated = Object.keys(stages).filter((id) => {
    const s = stages[id];
    return isObject(s) && s.repeat !== undefined;
  });
  if (repeated.length === 0) return { data, yaml };

  const expansions = new Map<string, Expanded>();
  for (const id of repeated)
    expansions.set(id, expandStage(id, stages[id] as Record<string, unknown>, yaml));
  const result: Record<string, unknown> = {};
  const aliases: Alias[] = [];
  for (const [id, stage] of Object.entries(stages)) {
    const ex = expansions.get(id);
    const entries: [string, unknown][] = ex === undefined ? [[id, stage]] : ex.stages;
    for (const [newId, s] of entries) {
      if (newId in result) {
        throw fail(
          yaml,
          ['stages', id],
          `stages.${id}: a round of a repeated stage and another stage are both named '${newId}'`,
          'rename one of them, or give the repeat step its own id (repeat.finetune.id)',
        );
      }
      result[newId] = s;
    }
    if (ex !== undefined) aliases.push(...ex.aliases);
  }
  // Stages that need a repeated stage (another repeat's first round too) read its last round's model.
  for (const stage of Object.values(result)) {
    if (!isObject(stage) || stage.needs === undefined) continue;
    const needs = stage.needs;
    const swap = (n: unknown): unknown =>
      typeof n === 'string' ? (expansions.get(n)?.lastModel ?? n) : n;
    stage.needs = Array.isArray(needs) ? needs.map(swap) : swap(needs);
  }
  return { data: { ...data, stages: result }, yaml: aliasedYaml(yaml, aliases) };
}

/** `yaml` whose paths under an expanded stage locate the construct it came from. */
function aliasedYaml(yaml: ParsedYaml, aliases: readonly Alias[]): ParsedYaml {
  // Longest `from` first, so `with.density` of a round wins over the round's stage.
  const sorted = [...aliases].sort((a, b) => b.from.length - a.from.length);
  const rewrite = (path: RecipePath | string): RecipePath | string => {
    const text = typeof path === 'string' ? path : path.map(String).join('.');
    for (const a of sorted) {
      const from = a.from.map(String).join('.');
      if (text !== from && !text.startsWith(`${from}.`)) continue;
      const rest = typeof path === 'string' ? splitRest(text, from) : path.slice(a.from.length);
      return [...a.to, ...rest];
    }
    return path;
  };
  return {
    file: yaml.file,
    doc: yaml.doc,
    locate: (path: RecipePath | string, options?: LocateOptions) =>
      yaml.locate(rewrite(path), options),
    nodeAt: (path: RecipePath) => yaml.nodeAt(rewrite(path) as RecipePath),
    toJSON: () => yaml.toJSON(),
  };
}

function splitRest(text: string, prefix: string): string[] {
  return text.length === prefix.length ? [] : text.slice(prefix.length + 1).split('.');
}
