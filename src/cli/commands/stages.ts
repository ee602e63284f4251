// scalpel stages [name]: the registered stage types, pruners and solvers (built-in, bundled
// plugins, and a recipe's plugins with --recipe), with their parameters from the schemas.
import { Command } from 'commander';
import { ErrorCode, ScalpelError } from '../../errors.js';
import type { EntryKind, Registry, RegistryEntry } from '../../registry/registry.js';
import type { JsonSchema } from '../../plugin-api/schema.js';
import { suggestionHint } from '../../suggest.js';
import { describeParams, type ParamDoc } from '../schema-params.js';
import { renderTable } from '../table.js';
import { withDebug } from '../options.js';

interface StagesOpts {
  recipe?: string;
  json?: boolean;
}

const kinds: readonly { kind: EntryKind; title: string }[] = [
  { kind: 'stage', title: 'Stage types' },
  { kind: 'pruner', title: 'Pruners (prune stage, `method:`)' },
  { kind: 'solver', title: 'QUBO solvers (`solver: { uses: … }`)' },
];

function versionOf(e: RegistryEntry): string | undefined {
  const v = (e.value as { version?: unknown }).version;
  return typeof v === 'string' ? v : undefined;
}

function entryJson(e: RegistryEntry): Record<string, unknown> {
  const stage = e.kind === 'stage' ? (e.value as RegistryEntry<'stage'>['value']) : undefined;
  return {
    kind: e.kind,
    name: e.name,
    origin: e.origin,
    version: versionOf(e),
    description: e.value.description,
    ...(stage !== undefined ? { output: stage.output, inputs: stage.inputs ?? [] } : {}),
    params: describeParams(e.value.schema),
  };
}

function renderList(registry: Registry): string {
  const out: string[] = [];
  for (const { kind, title } of kinds) {
    const entries = registry.entries(kind);
    out.push(`${title}:`);
    if (entries.length === 0) out.push('  (none)');
    else {
      out.push(
        renderTable(
          entries.map((e) => [
            e.name,
            `${e.origin}${versionOf(e) !== undefined ? ` v${versionOf(e)}` : ''}`,
            e.value.description,
          ]),
          { indent: '  ' },
        ),
      );
    }
    out.push('');
  }
  out.push('`scalpel stages <name>` shows the parameters of one of them.');
  return out.join('\n');
}

/**
 * For a stage type whose parameters depend on what is registered (the prune stage: one branch
 * per pruner, picked by `method`), each choice with its own parameters beyond the common ones.
 */
function choicesSection(registry: Registry, e: RegistryEntry): string[] {
  if (e.kind !== 'stage') return [];
  const schema = registry.paramsSchema('stage', e.name);
  const tag = (schema.discriminator as { propertyName?: unknown } | undefined)?.propertyName;
  const branches = schema.oneOf;
  if (typeof tag !== 'string' || !Array.isArray(branches)) return [];
  const common = new Set(describeParams(e.value.schema).map((p) => p.name.split('.')[0]));
  const rows = branches.flatMap((b: JsonSchema) => {
    const value = ((b.properties as Record<string, JsonSchema> | undefined)?.[tag] ?? {}).const;
    if (typeof value !== 'string') return [];
    const own = describeParams(b)
      .filter((p) => !p.name.includes('.') && !common.has(p.name))
      .map(
        (p) =>
          `${p.name}${p.default !== undefined && !/^[{[]/.test(p.default) ? ` (${p.default})` : ''}`,
      );
    return [[value, own.length > 0 ? own.join(', ') : '-']];
  });
  return [
    '',
    `Parameters by \`${tag}\` (besides the ones above; \`scalpel stages <${tag}>\` describes them):`,
    renderTable([[tag, 'its parameters (default)'], ...rows], { indent: '  ' }),
  ];
}

/** Columns of the terminal, when stdout is one (piped output is never wrapped). */
function terminalWidth(): number | undefined {
  return process.stdout.isTTY ? process.stdout.columns : undefined;
}

/** Words of `text` in lines of at most `width` characters (a longer word gets a line of its own). */
function wrap(text: string, width: number): string[] {
  const lines: string[] = [];
  let line = '';
  for (const word of text.split(/\s+/).filter((w) => w !== '')) {
    if (line !== '' && line.length + 1 + word.length > width) {
      lines.push(line);
      line = word;
    } else line = line === '' ? word : `${line} ${word}`;
  }
  if (line !== '') lines.push(line);
  return lines;
}

/**
 * The parameter table; when it is wider than the terminal, one block per parameter instead
 * (name, type and default on a line, the description wrapped below it).
 */
export function renderParams(params: readonly ParamDoc[], width?: number): string {
  const defaultOf = (p: ParamDoc): string => p.default ?? (p.required ? '(required)' : '-');
  const table = renderTable(
    [
      ['name', 'type', 'default', 'description'],
      ...params.map((p) => [p.name, p.type, defaultOf(p), p.description]),
    ],
    { indent: '  ' },
  );
  if (width === undefined || table.split('\n').every((l) => [...l].length <= width)) return table;
  return params
    .map((p) => {
      const tail = p.required
        ? '  (required)'
        : p.default !== undefined
          ? `  default ${p.default}`
          : '';
      const head = `  ${p.name}  ${p.type}${tail}`;
      const body = wrap(p.description, Math.max(20, width - 6)).map((l) => `      ${l}`);
      return [head, ...body].join('\n');
    })
    .join('\n');
}

/**
 * The schema's own description (file formats, examples): prose wrapped to `width`, lines that
 * start with a space kept as written (aligned examples).
 */
export function renderAbout(text: string, width = 100): string[] {
  return text.split('\n').flatMap((line) => {
    if (line.trim() === '') return [''];
    if (/^\s/.test(line)) return [`  ${line}`];
    return wrap(line, Math.max(20, width - 2)).map((l) => `  ${l}`);
  });
}

function renderOne(registry: Registry, e: RegistryEntry): string {
  const word = e.kind === 'stage' ? 'stage type' : e.kind;
  const version = versionOf(e) !== undefined ? `, version ${versionOf(e)}` : '';
  const lines = [
    `${e.name} — ${word} from ${e.origin === 'builtin' ? 'scalpel' : `plugin '${e.origin}'`}${version}`,
    `  ${e.value.description}`,
  ];
  if (e.kind === 'stage') {
    const s = e.value as RegistryEntry<'stage'>['value'];
    const inputs = (s.inputs ?? [])
      .map(
        (i) =>
          `${i.kind}${i.optional === true || i.multiple === true ? ` (${[i.optional === true ? 'optional' : '', i.multiple === true ? 'several' : ''].filter((x) => x !== '').join(', ')})` : ''}`,
      )
      .join(', ');
    lines.push(`  output: ${s.output}${inputs !== '' ? ` · inputs: ${inputs}` : ''}`);
  }
  const about = e.value.schema.description;
  if (typeof about === 'string' && about.trim() !== e.value.description.trim())
    lines.push('', 'About:', ...renderAbout(about, terminalWidth()));
  const params = describeParams(e.value.schema);
  lines.push('', params.length === 0 ? 'No parameters.' : 'Parameters:');
  if (params.length > 0) lines.push(renderParams(params, terminalWidth()));
  lines.push(...choicesSection(registry, e));
  return lines.join('\n');
}

function findEntries(registry: Registry, name: string): RegistryEntry[] {
  const found = kinds
    .filter(({ kind }) => registry.has(kind, name))
    .map(({ kind }) => registry.entry(kind, name));
  if (found.length === 0) {
    // A name can be both a stage type and a pruner (icbs): list it once.
    const all = [
      ...new Set(kinds.flatMap(({ kind }) => registry.entries(kind).map((e) => e.name))),
    ];
    throw new ScalpelError(
      ErrorCode.UnknownName,
      `no stage type, pruner or solver is called '${name}'`,
      {
        hint: suggestionHint(name, all, 'name'),
      },
    );
  }
  return found;
}

export function stagesCommand(): Command {
  return withDebug(new Command('stages'))
    .description('list stage types, pruners and solvers with their parameters (from their schemas)')
    .argument('[name]', 'show one of them in detail')
    .option('--recipe <file>', "include the plugins listed in this recipe's `plugins:`")
    .option('--json', 'print as JSON')
    .action(async (name: string | undefined, opts: StagesOpts) => {
      const { builtinRegistry } = await import('../../registry/builtins.js');
      const { loadRecipe } = await import('../../recipe/load-recipe.js');
      const registry =
        opts.recipe !== undefined
          ? (await loadRecipe(opts.recipe)).registry
          : await builtinRegistry();
      const entries =
        name !== undefined
          ? findEntries(registry, name)
          : kinds.flatMap(({ kind }) => registry.entries(kind));
      let text: string;
      if (opts.json === true) text = JSON.stringify(entries.map(entryJson), null, 2);
      else if (name !== undefined) text = entries.map((e) => renderOne(registry, e)).join('\n\n');
      else text = renderList(registry);
      process.stdout.write(text + '\n');
    });
}
