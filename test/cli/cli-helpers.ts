// Running the real CLI in a child process, and small recipes over the engine test plugin.
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import YAML from 'yaml';
import { cliPath, fixturesDir } from '../helpers/paths.js';

export const enginePlugin = join(fixturesDir, 'engine-plugin', 'index.js');

export interface CliResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

export interface Spawned {
  child: ChildProcess;
  done: Promise<CliResult>;
}

/** Start `node <cli> ...args` in `cwd` (its own cache and runs/ live there). */
export function startCli(
  args: readonly string[],
  cwd: string,
  env: NodeJS.ProcessEnv = {},
): Spawned {
  const child = spawn(process.execPath, [cliPath, ...args], {
    cwd,
    env: { ...process.env, SCALPEL_CACHE_DIR: '', FORCE_COLOR: '0', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout?.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr?.on('data', (d: Buffer) => (stderr += d.toString()));
  const done = new Promise<CliResult>((resolve) => {
    child.on('close', (code, signal) => resolve({ code, signal, stdout, stderr }));
  });
  return { child, done };
}

export function runCli(
  args: readonly string[],
  cwd: string,
  env: NodeJS.ProcessEnv = {},
): Promise<CliResult> {
  return startCli(args, cwd, env).done;
}

/** Run async jobs with at most `limit` at a time, keeping result order. */
export async function mapLimit<T, R>(
  items: readonly T[],
  limit: number,
  fn: (t: T) => Promise<R>,
): Promise<R[]> {
  const out: R[] = new Array<R>(items.length);
  let next = 0;
  const worker = async (): Promise<void> => {
    for (let i = next++; i < items.length; i = next++) out[i] = await fn(items[i] as T);
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return out;
}

export interface StageSpec {
  uses: string;
  needs?: string[];
  with?: Record<string, unknown>;
}

/** Write `<dir>/<file>` as a recipe using the engine test plugin; returns its path. */
export function writeRecipe(
  dir: string,
  stages: Record<string, StageSpec>,
  opts: { name?: string; seed?: number; file?: string } = {},
): string {
  const path = join(dir, opts.file ?? 'recipe.yaml');
  const doc = {
    version: 1,
    name: opts.name ?? 'engine-test',
    seed: opts.seed ?? 7,
    backend: 'cpu',
    plugins: [enginePlugin],
    stages,
  };
  writeFileSync(path, YAML.stringify(doc));
  return path;
}

/** a ─▶ slow ─▶ c, the chain the kill/interrupt tests stop in the middle of `slow`. */
export function slowChain(ms: number): Record<string, StageSpec> {
  return {
    a: { uses: 'count', with: { value: 1 } },
    slow: { uses: 'sleep-and-write', needs: ['a'], with: { ms } },
    c: { uses: 'count', needs: ['slow'], with: { value: 3 } },
  };
}

/** A waitFor condition: the `slow` stage of {@link slowChain} has started (its timing line). */
export const slowStarted = (dir: string) => (): boolean =>
  existsSync(join(dir, 'timings.jsonl')) &&
  readFileSync(join(dir, 'timings.jsonl'), 'utf8').includes('"slow"');

/** Lines of the counter file: one stage id per stage execution. */
export function counter(dir: string, file = 'counter.txt'): string[] {
  const p = join(dir, file);
  return existsSync(p)
    ? readFileSync(p, 'utf8')
        .split('\n')
        .filter((l) => l !== '')
    : [];
}

export function readJson<T = unknown>(path: string): T {
  return JSON.parse(readFileSync(path, 'utf8')) as T;
}

export interface PlanJson {
  nodes: { id: string; uses: string; hash: string; needs: string[]; cached: boolean }[];
}

/** `scalpel plan --json` → { id: cached }. */
export async function planCached(
  args: readonly string[],
  cwd: string,
): Promise<{ cached: Record<string, boolean>; hashes: Record<string, string> }> {
  const r = await runCli(['plan', ...args, '--json'], cwd);
  if (r.code !== 0) throw new Error(`plan failed (${r.code}): ${r.stderr}`);
  const plan = JSON.parse(r.stdout) as PlanJson;
  return {
    cached: Object.fromEntries(plan.nodes.map((n) => [n.id, n.cached])),
    hashes: Object.fromEntries(plan.nodes.map((n) => [n.id, n.hash])),
  };
}

/** The run directory named on the summary's last line ("record: <dir>"). */
export function runDirOf(r: CliResult, cwd: string): string {
  const m = /record: (.+)$/m.exec(r.stdout);
  if (m === null || m[1] === undefined)
    throw new Error(`no run dir in output:\n${r.stdout}\n${r.stderr}`);
  const d = m[1].trim();
  return d.startsWith('/') ? d : join(cwd, d);
}

/** Resolves once `predicate` holds (polling), or rejects after `timeoutMs`. */
export async function waitFor(
  predicate: () => boolean,
  timeoutMs: number,
  what: string,
): Promise<void> {
  const t0 = Date.now();
  while (!predicate()) {
    if (Date.now() - t0 > timeoutMs) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}
