// scalpel stages [name]: the registered stage types, pruners and solvers (built-in, bundled
// plugins, and a recipe's plugins with --recipe), with their parameters from the schemas.
import { Command } from 'commander';
import { ErrorCode, ScalpelError } from '../../errors.js';
import type { EntryKind, Registry, RegistryEntry } from '../../engine/registry.js';
import { suggestionHint } from '../../recipe/suggest.js';
import { describeParams } from '../schema-params.js';
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

function renderOne(e: RegistryEntry): string {
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
  const params = describeParams(e.value.schema);
  lines.push('', params.length === 0 ? 'No parameters.' : 'Parameters:');
  if (params.length > 0) {
    lines.push(
      renderTable(
        [
          ['name', 'type', 'default', 'description'],
          ...params.map((p) => [
            p.name,
            p.type,
            p.default ?? (p.required ? '(required)' : '-'),
            p.description,
          ]),
        ],
        { indent: '  ' },
      ),
    );
  }
  return lines.join('\n');
}

function findEntries(registry: Registry, name: string): RegistryEntry[] {
  const found = kinds
    .filter(({ kind }) => registry.has(kind, name))
    .map(({ kind }) => registry.entry(kind, name));
  if (found.length === 0) {
    const all = kinds.flatMap(({ kind }) => registry.entries(kind).map((e) => e.name));
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
      const { builtinRegistry } = await import('../../engine/builtins.js');
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
      else if (name !== undefined) text = entries.map(renderOne).join('\n\n');
      else text = renderList(registry);
      process.stdout.write(text + '\n');
    });
}
