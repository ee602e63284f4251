// The `external` solver: writes the block QUBO as a UBQP file (ubqp.ts), runs a user-given
// command through the shell and reads the answer from its stdout (parse-solution.ts). This is
// how a different annealer or a quantum-service client plugs in. The energy is recomputed here.
import { spawn } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ErrorCode, ScalpelError } from '../../errors.js';
import type {
  CardinalityQubo,
  QuboSolver,
  SolveContext,
  SolveResult,
} from '../../plugin-api/solver.js';
import { readSchema, schemaDefaults } from '../../util/schemas.js';
import { checkProblem, quboEnergyOfOnes } from '../problem.js';
import { parseSolution, SolutionFormatError } from './parse-solution.js';
import { toUbqp } from './ubqp.js';

export interface ExternalParams {
  /** Shell command; {file} {k} {n} {seed} are replaced (the file path shell-quoted). */
  command: string;
  timeoutSeconds: number;
  /** Working directory of the command (default: the current directory). */
  cwd?: string;
}

const MAX_OUTPUT = 64 * 1024 * 1024;

/** Single-quotes a string for a POSIX shell. */
function shellQuote(s: string): string {
  return `'${s.replace(/'/g, `'\\''`)}'`;
}

export function expandCommand(
  command: string,
  vars: { file: string; k: number; n: number; seed: number },
): string {
  return command
    .replaceAll('{file}', shellQuote(vars.file))
    .replaceAll('{k}', String(vars.k))
    .replaceAll('{n}', String(vars.n))
    .replaceAll('{seed}', String(vars.seed));
}

/** The defaults of schemas/solvers/external.schema.json (for callers that bypass it). */
export function externalDefaults(): { timeoutSeconds: number } {
  return schemaDefaults(readSchema('solvers/external.schema.json')) as { timeoutSeconds: number };
}

function resolveParams(params: Record<string, unknown>): ExternalParams {
  const { command, timeoutSeconds = externalDefaults().timeoutSeconds, cwd } = params;
  const bad = (what: string): never => {
    throw new ScalpelError(ErrorCode.RecipeSchema, `solver 'external': ${what}`, {
      hint: "example: solver: { uses: external, command: 'my-annealer --k {k} {file}', timeoutSeconds: 60 }",
    });
  };
  if (typeof command !== 'string' || command.trim() === '')
    bad('parameter command (a non-empty string) is required');
  if (typeof timeoutSeconds !== 'number' || !(timeoutSeconds > 0))
    bad(`timeoutSeconds must be a number > 0, got ${JSON.stringify(timeoutSeconds)}`);
  if (cwd !== undefined && typeof cwd !== 'string')
    bad(`cwd must be a string, got ${JSON.stringify(cwd)}`);
  return {
    command: command as string,
    timeoutSeconds: timeoutSeconds as number,
    ...(cwd === undefined ? {} : { cwd: cwd as string }),
  };
}

interface RunOutcome {
  stdout: string;
  stderr: string;
  code: number | null;
  signal: NodeJS.Signals | null;
  timedOut: boolean;
  spawnError?: Error;
}

function runCommand(
  cmd: string,
  cwd: string | undefined,
  timeoutMs: number,
  signal?: AbortSignal,
): Promise<RunOutcome> {
  return new Promise((resolve) => {
    // Own process group, so a timeout kills the shell and everything it started.
    const child = spawn(cmd, {
      shell: true,
      cwd,
      detached: true,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    let outBytes = 0;
    let timedOut = false;
    const killGroup = (): void => {
      try {
        if (child.pid !== undefined) process.kill(-child.pid, 'SIGKILL');
      } catch {
        child.kill('SIGKILL');
      }
    };
    const timer = setTimeout(() => {
      timedOut = true;
      killGroup();
    }, timeoutMs);
    const onAbort = (): void => killGroup();
    signal?.addEventListener('abort', onAbort, { once: true });
    child.stdout.on('data', (b: Buffer) => {
      outBytes += b.length;
      if (outBytes <= MAX_OUTPUT) out.push(b);
    });
    child.stderr.on('data', (b: Buffer) => {
      if (err.reduce((s, e) => s + e.length, 0) < 64 * 1024) err.push(b);
    });
    let spawnError: Error | undefined;
    child.on('error', (e) => {
      spawnError = e;
    });
    child.on('close', (code, sig) => {
      clearTimeout(timer);
      signal?.removeEventListener('abort', onAbort);
      resolve({
        stdout: Buffer.concat(out).toString('utf8'),
        stderr: Buffer.concat(err).toString('utf8'),
        code,
        signal: sig,
        timedOut,
        ...(spawnError === undefined ? {} : { spawnError }),
      });
    });
  });
}

const preview = (s: string): string => JSON.stringify(s.length > 200 ? s.slice(0, 200) + '…' : s);

export const external: QuboSolver = {
  name: 'external',
  version: '1',
  description:
    'Runs a user-given command on the block QUBO written as a UBQP file and reads its answer from stdout',
  get schema() {
    return readSchema('solvers/external.schema.json');
  },
  async solve(
    problem: CardinalityQubo,
    params: Record<string, unknown>,
    ctx: SolveContext,
  ): Promise<SolveResult> {
    checkProblem(problem, 'external');
    const p = resolveParams(params);
    const { n, k, Q } = problem;
    const dir = await mkdtemp(join(tmpdir(), 'scalpel-qubo-'));
    try {
      const file = join(dir, 'block.ubqp');
      await writeFile(file, toUbqp(Q, n));
      const cmd = expandCommand(p.command, { file, k, n, seed: ctx.seed });
      const started = performance.now();
      const r = await runCommand(cmd, p.cwd, p.timeoutSeconds * 1000, ctx.signal);
      const wallMs = performance.now() - started;
      ctx.signal?.throwIfAborted();
      const fail = (what: string, hint: string): never => {
        throw new ScalpelError(
          ErrorCode.Stage,
          `solver 'external': command \`${p.command}\` ${what}; stdout starts ${preview(r.stdout)}` +
            (r.stderr.trim() !== '' ? `; stderr starts ${preview(r.stderr)}` : ''),
          { hint },
        );
      };
      if (r.spawnError !== undefined)
        fail(`could not be started (${r.spawnError.message})`, 'check the command and cwd');
      if (r.timedOut)
        fail(
          `did not finish within timeoutSeconds = ${p.timeoutSeconds}`,
          'raise timeoutSeconds or make the solver faster',
        );
      if (r.code !== 0) {
        fail(
          r.signal !== null ? `was killed by ${r.signal}` : `exited with code ${r.code}`,
          'run the command by hand on a UBQP file to see why it fails',
        );
      }
      let x: Uint8Array;
      try {
        x = parseSolution(r.stdout, n, k);
      } catch (e) {
        if (!(e instanceof SolutionFormatError)) throw e;
        return fail(
          `printed an unusable answer: ${e.message}`,
          `print the solution as the last stdout line: ${n} values 0/1 (or the 1-based indices of the ${k} ones)`,
        );
      }
      return { x, energy: quboEnergyOfOnes(Q, n, x), stats: { wallMs } };
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  },
};
