// One registry for built-in and plugin stage types, pruners and solvers. Every entry's schema is
// compiled when it is registered, so a broken schema fails at load time naming its plugin, and
// validation later reuses the compiled validator.
import { ErrorCode, ScalpelError } from '../errors.js';
import { unknownName } from '../error-factories.js';
import type { RegistryView } from '../plugin-api/registry-view.js';
import type { StageType } from '../plugin-api/stage.js';
import type { Pruner } from '../plugin-api/pruner.js';
import type { QuboSolver } from '../plugin-api/solver.js';
import type { ModelFamily } from '../plugin-api/model.js';
import type { ScalpelPlugin } from '../plugin-api/plugin.js';
import type { JsonSchema } from '../plugin-api/schema.js';
import {
  compileSchema,
  createAjv,
  schemaProblem,
  type ValidateFunction,
} from '../util/ajv-instance.js';

export type EntryKind = 'stage' | 'pruner' | 'solver' | 'family';

interface EntryTypes {
  stage: StageType;
  pruner: Pruner;
  solver: QuboSolver;
  family: ModelFamily;
}

export interface RegistryEntry<K extends EntryKind = EntryKind> {
  readonly kind: K;
  readonly name: string;
  readonly value: EntryTypes[K];
  /** Plugin name, or 'builtin'. */
  readonly origin: string;
  /** The entry's parameter schema, compiled (mutates its argument: fills defaults). */
  readonly validate: ValidateFunction;
}

const kindWords: Record<EntryKind, string> = {
  stage: 'stage type',
  pruner: 'pruner',
  solver: 'solver',
  family: 'model family',
};

/** Names users type in recipes: letters, digits, '-', '_' and '.', starting with a letter. */
const namePattern = /^[A-Za-z][A-Za-z0-9._-]*$/;

type Tables = { [K in EntryKind]: Map<string, RegistryEntry<K>> };

export class Registry implements RegistryView {
  private readonly tables: Tables;
  /** Validators of stage types with `schemaFor` (built from this registry's contents). */
  private readonly derived = new Map<string, { schema: JsonSchema; validate: ValidateFunction }>();

  constructor() {
    this.tables = { stage: new Map(), pruner: new Map(), solver: new Map(), family: new Map() };
  }

  /** A copy whose additions (a recipe's plugins) do not show up in this registry. */
  clone(): Registry {
    const copy = new Registry();
    for (const kind of ['stage', 'pruner', 'solver', 'family'] as const) {
      for (const [name, entry] of this.tables[kind]) {
        (copy.tables[kind] as Map<string, RegistryEntry>).set(name, entry);
      }
    }
    return copy;
  }

  registerStage(stage: StageType, origin: string): void {
    this.registerAll({ stages: [stage] }, origin);
  }

  registerPruner(pruner: Pruner, origin: string): void {
    this.registerAll({ pruners: [pruner] }, origin);
  }

  registerSolver(solver: QuboSolver, origin: string): void {
    this.registerAll({ solvers: [solver] }, origin);
  }

  /**
   * Register everything a plugin exports. All entries are checked (shape, schema, name clashes)
   * before any is added, so a rejected plugin leaves the registry as it was.
   */
  registerAll(plugin: ScalpelPlugin, origin: string): void {
    const pending: RegistryEntry[] = [];
    const groups: [EntryKind, unknown][] = [
      ['stage', plugin.stages],
      ['pruner', plugin.pruners],
      ['solver', plugin.solvers],
      ['family', plugin.families],
    ];
    for (const [kind, list] of groups) {
      if (list === undefined) continue;
      const field = kind === 'family' ? 'families' : `${kind}s`;
      if (!Array.isArray(list)) {
        throw pluginError(origin, `\`${field}\` must be a list, found ${typeof list}`);
      }
      list.forEach((value: unknown, index: number) => {
        const entry = this.prepare(kind, value, index, origin);
        const clash =
          this.tables[kind].get(entry.name) ??
          pending.find((p) => p.kind === kind && p.name === entry.name);
        if (clash !== undefined) {
          throw pluginError(
            origin,
            `${kindWords[kind]} '${entry.name}' from '${origin}' clashes with the one from '${clash.origin}'`,
            `names must be unique: rename one of them, or remove one of the plugins from \`plugins\``,
          );
        }
        pending.push(entry);
      });
    }
    for (const entry of pending) {
      (this.tables[entry.kind] as Map<string, RegistryEntry>).set(entry.name, entry);
    }
    // New pruners/solvers may change what `schemaFor` returns.
    if (pending.length > 0) this.derived.clear();
  }

  stage(name: string): StageType {
    return this.entry('stage', name).value;
  }

  pruner(name: string): Pruner {
    return this.entry('pruner', name).value;
  }

  solver(name: string): QuboSolver {
    return this.entry('solver', name).value;
  }

  family(name: string): ModelFamily {
    return this.entry('family', name).value;
  }

  has(kind: EntryKind, name: string): boolean {
    return this.tables[kind].has(name);
  }

  /**
   * The compiled schema validator of an entry (fills defaults into the object it checks). For a
   * stage type with `schemaFor`, the validator of the schema it builds from this registry.
   */
  validator(kind: EntryKind, name: string): ValidateFunction {
    const entry = this.entry(kind, name);
    if (entry.kind !== 'stage') return entry.validate;
    return this.derivedSchema(entry as RegistryEntry<'stage'>)?.validate ?? entry.validate;
  }

  /** The schema recipes are validated against: `schemaFor(this)` if the entry has it, else `schema`. */
  paramsSchema(kind: EntryKind, name: string): JsonSchema {
    const entry = this.entry(kind, name);
    if (entry.kind === 'stage') {
      const derived = this.derivedSchema(entry as RegistryEntry<'stage'>);
      if (derived !== undefined) return derived.schema;
    }
    return entry.value.schema;
  }

  private derivedSchema(
    entry: RegistryEntry<'stage'>,
  ): { schema: JsonSchema; validate: ValidateFunction } | undefined {
    const stage = entry.value;
    if (typeof stage.schemaFor !== 'function') return undefined;
    const cached = this.derived.get(entry.name);
    if (cached !== undefined) return cached;
    let schema: JsonSchema | undefined;
    let validate: ValidateFunction;
    try {
      schema = stage.schemaFor(this);
      // A fresh ajv: a derived schema may be rebuilt (with the same $id) after registrations.
      validate = createAjv().compile(schema);
    } catch (e) {
      if (e instanceof ScalpelError) throw e;
      throw pluginError(
        entry.origin,
        `the schema that ${kindWords.stage} '${entry.name}' builds (schemaFor) is invalid: ${schemaProblem(schema ?? {}, e)}`,
        undefined,
        e,
      );
    }
    const result = { schema: schema, validate };
    this.derived.set(entry.name, result);
    return result;
  }

  entry<K extends EntryKind>(kind: K, name: string): RegistryEntry<K> {
    const table = this.tables[kind] as Map<string, RegistryEntry<K>>;
    const found = table.get(name);
    if (found === undefined) {
      throw unknownName(kindWords[kind], name, [...table.keys()]);
    }
    return found;
  }

  /** All entries of a kind, sorted by name (for `scalpel stages`). */
  entries<K extends EntryKind>(kind: K): RegistryEntry<K>[] {
    const table = this.tables[kind] as Map<string, RegistryEntry<K>>;
    return [...table.values()].sort((a, b) => a.name.localeCompare(b.name));
  }

  stageNames(): string[] {
    return [...this.tables.stage.keys()].sort();
  }

  prunerNames(): string[] {
    return [...this.tables.pruner.keys()].sort();
  }

  solverNames(): string[] {
    return [...this.tables.solver.keys()].sort();
  }

  familyNames(): string[] {
    return [...this.tables.family.keys()].sort();
  }

  originOf(kind: EntryKind, name: string): string {
    return this.entry(kind, name).origin;
  }

  /** Check an entry's shape and compile its schema. */
  private prepare(kind: EntryKind, value: unknown, index: number, origin: string): RegistryEntry {
    const label = `${kindWords[kind]} #${index + 1}`;
    if (value === null || typeof value !== 'object') {
      throw pluginError(
        origin,
        `${label} is ${value === null ? 'null' : typeof value}, not an object`,
      );
    }
    const v = value as Record<string, unknown>;
    const name = v.name;
    if (typeof name !== 'string' || !namePattern.test(name)) {
      throw pluginError(
        origin,
        `${label} has ${typeof name === 'string' ? `an invalid name '${name}'` : 'no `name`'}`,
        'a name is a string of letters, digits, "-", "_" or "." starting with a letter, e.g. "my-stage"',
      );
    }
    const what = `${kindWords[kind]} '${name}'`;
    const requireField = (field: string, type: 'string' | 'function' | 'object'): void => {
      const f = v[field];
      const ok =
        type === 'object'
          ? f !== null && typeof f === 'object' && !Array.isArray(f)
          : typeof f === type;
      if (!ok || (type === 'string' && f === '')) {
        throw pluginError(
          origin,
          `${what} is missing \`${field}\` (${type === 'object' ? 'a JSON Schema object' : `a ${type}`})`,
          field === 'version'
            ? `add version: '1' to ${what} and bump it whenever its results change for the same inputs: it is part of the cache key`
            : 'see src/plugin-api for the fields every entry must have',
        );
      }
    };
    // Every kind: a version is what tells the cache that an entry's code changed.
    requireField('version', 'string');
    requireField('description', 'string');
    requireField('schema', 'object');
    if (kind === 'stage') {
      requireField('output', 'string');
      requireField('run', 'function');
      checkInputs(v.inputs, what, origin);
      for (const optional of ['fingerprint', 'schemaFor']) {
        if (v[optional] !== undefined && typeof v[optional] !== 'function') {
          throw pluginError(origin, `${what} has a \`${optional}\` that is not a function`);
        }
      }
    } else if (kind === 'pruner') {
      requireField('prune', 'function');
    } else if (kind === 'family') {
      for (const f of ['recognizes', 'inspect', 'load', 'save']) requireField(f, 'function');
    } else {
      requireField('solve', 'function');
    }
    let validate: ValidateFunction;
    try {
      validate = compileSchema(v.schema as object);
    } catch (e) {
      throw pluginError(
        origin,
        `the schema of ${what} is invalid: ${schemaProblem(v.schema as object, e)}`,
        'schemas are JSON Schema draft 2020-12 checked by ajv in strict mode: unknown keywords, misspelled types and defaults inside oneOf/anyOf are errors',
        e,
      );
    }
    return { kind, name, value: value as never, origin, validate };
  }
}

function checkInputs(inputs: unknown, what: string, origin: string): void {
  if (inputs === undefined) return;
  const ok =
    Array.isArray(inputs) &&
    inputs.every(
      (i: unknown) =>
        i !== null &&
        typeof i === 'object' &&
        typeof (i as { kind?: unknown }).kind === 'string' &&
        ['undefined', 'boolean'].includes(typeof (i as { optional?: unknown }).optional) &&
        ['undefined', 'boolean'].includes(typeof (i as { multiple?: unknown }).multiple),
    );
  if (!ok) {
    throw pluginError(
      origin,
      `${what} has malformed \`inputs\``,
      'inputs is a list of { kind: string, optional?: boolean, multiple?: boolean }',
    );
  }
}

function pluginError(
  origin: string,
  message: string,
  hint?: string,
  cause?: unknown,
): ScalpelError {
  return new ScalpelError(ErrorCode.Plugin, `plugin '${origin}': ${message}`, {
    plugin: origin,
    ...(hint !== undefined ? { hint } : {}),
    ...(cause !== undefined ? { cause } : {}),
  });
}
