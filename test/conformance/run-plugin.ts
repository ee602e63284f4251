// `npm run test:plugin -- path/to/plugin.js`: the conformance suite on every pruner a plugin
// module exports (loaded through scalpel's plugin loader, as a recipe's `plugins:` entry would be).
// Options: --params '<json>' (the pruner's own parameters), --density 0.3, --invalid '<json>'
// (a parameter set its schema must reject; repeatable).
import { resolve } from 'node:path';
import Mocha from 'mocha';
import { importPlugin, resolvePluginPath } from '../../src/registry/plugin-loader.js';
import { describePrunerConformance, type ConformanceOptions } from './pruner-conformance.js';

function parseArgs(argv: string[]): { spec: string; options: Omit<ConformanceOptions, 'plugin'> } {
  let spec: string | undefined;
  let params: Record<string, unknown> | undefined;
  let density: number | undefined;
  const invalid: Record<string, unknown>[] = [];
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i] as string;
    const next = (): string => {
      const v = argv[++i];
      if (v === undefined) throw new Error(`${a} needs a value`);
      return v;
    };
    if (a === '--params') params = JSON.parse(next()) as Record<string, unknown>;
    else if (a === '--density') density = Number(next());
    else if (a === '--invalid') invalid.push(JSON.parse(next()) as Record<string, unknown>);
    else if (spec === undefined) spec = a;
    else throw new Error(`unexpected argument '${a}'`);
  }
  if (spec === undefined)
    throw new Error(
      'usage: npm run test:plugin -- path/to/plugin.js [--params JSON] [--density D] [--invalid JSON]…',
    );
  return {
    spec,
    options: {
      ...(params !== undefined ? { params } : {}),
      ...(density !== undefined ? { density } : {}),
      ...(invalid.length > 0 ? { invalidParams: invalid } : {}),
    },
  };
}

async function main(): Promise<void> {
  const { spec, options } = parseArgs(process.argv.slice(2));
  const file = resolvePluginPath(spec, process.cwd());
  const plugin = await importPlugin(file, spec);
  const pruners = plugin.pruners ?? [];
  if (pruners.length === 0) throw new Error(`${resolve(file)} exports no pruners`);
  const mocha = new Mocha({ timeout: 120000 });
  mocha.suite.emit('pre-require', globalThis, file, mocha);
  for (const p of pruners)
    describePrunerConformance(p, { ...options, plugin: plugin.name ?? spec });
  mocha.run((failures) => {
    process.exitCode = failures > 0 ? 1 : 0;
  });
}

main().catch((e: unknown) => {
  console.error(e instanceof Error ? e.message : String(e));
  process.exitCode = 2;
});
