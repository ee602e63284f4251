// Every bad-recipe fixture through the real `scalpel validate`: exit code 2, the error code,
// file:line:col and message fragment on stderr, and no stack trace unless --debug.
// To keep the suite fast, the cases without `--set` go through one `validate` of many files
// (each reported under a "<file>: invalid" header); cases with `--set`, and a few with
// `--debug`, get a process of their own (one file: the error alone, exit code checked per case).
import { strict as assert } from 'node:assert';
import { tmpdir } from 'node:os';
import { badRecipeCases, prepareCase, type BadRecipeCase } from '../recipe/bad-recipe-cases.js';
import { mapLimit, runCli, type CliResult } from './cli-helpers.js';

const stackLine = /^\s{4}at /m;

interface Outcome {
  c: BadRecipeCase;
  file?: string;
  skip?: string;
  /** The error text printed for this case (undefined: validate printed no block for it). */
  text?: string | undefined;
  /** Exit code of the process that validated this case alone. */
  ownCode?: number | null;
  debug?: CliResult;
}

/** Split the stderr of a multi-file validate into the text under each "<file>: invalid" header. */
function blocks(stderr: string): Map<string, string> {
  const out = new Map<string, string>();
  const re = /^(.+): invalid$/gm;
  const heads = [...stderr.matchAll(re)];
  heads.forEach((m, i) => {
    const start = (m.index ?? 0) + m[0].length + 1;
    const end = heads[i + 1]?.index ?? stderr.length;
    out.set(m[1] ?? '', stderr.slice(start, end));
  });
  return out;
}

describe('CLI validate: bad recipes (test/fixtures/bad-recipes)', function () {
  this.timeout(180000);
  const cases = badRecipeCases();
  const outcomes = new Map<string, Outcome>();
  // Also run with --debug: one per kind of failure (YAML, graph, plugin import, --set).
  const debugCases = new Set([
    'malformed-yaml',
    'cycle',
    'plugin-throws-at-import',
    'bad-set-path',
  ]);
  let batch: CliResult | undefined;

  before(async function () {
    const all: Outcome[] = cases.map((c) => {
      const p = prepareCase(c);
      return 'skip' in p ? { c, skip: p.skip } : { c, file: p.file };
    });
    for (const o of all) outcomes.set(o.c.name, o);
    const runnable = all.filter((o) => o.file !== undefined);
    const together = runnable.filter(
      (o) => o.c.expected.set === undefined && !debugCases.has(o.c.name),
    );
    const alone = runnable.filter((o) => !together.includes(o));

    const jobs: (() => Promise<void>)[] = [
      async () => {
        batch = await runCli(['validate', ...together.map((o) => o.file ?? '')], tmpdir());
        const byFile = blocks(batch.stderr);
        for (const o of together) o.text = byFile.get(o.file ?? '');
      },
      ...alone.map((o) => async () => {
        const args = [
          'validate',
          o.file ?? '',
          ...(o.c.expected.set ?? []).flatMap((s) => ['--set', s]),
        ];
        const r = await runCli(args, tmpdir());
        o.text = r.stderr;
        o.ownCode = r.code;
        if (debugCases.has(o.c.name)) o.debug = await runCli([...args, '--debug'], tmpdir());
      }),
    ];
    await mapLimit(jobs, 3, (job) => job());
  });

  it('covers at least 20 mistakes; the combined validate exits 2 and accepts none', () => {
    assert.ok(cases.length >= 20, `${cases.length} cases`);
    for (const name of debugCases)
      assert.ok(
        cases.some((c) => c.name === name),
        `case ${name} exists`,
      );
    assert.ok(batch);
    assert.equal(batch.code, 2, batch.stderr);
    assert.equal(batch.stdout, '', 'no recipe reported valid');
  });

  for (const c of cases) {
    it(`${c.name}: ${c.expected.code} "${c.expected.message}"`, function () {
      const o = outcomes.get(c.name);
      assert.ok(o);
      if (o.skip !== undefined) this.skip();
      const text = o.text;
      assert.ok(text !== undefined && o.file !== undefined, `no error reported for ${o.file}`);
      if (o.ownCode !== undefined) assert.equal(o.ownCode, 2, `exit code; stderr:\n${text}`);
      assert.ok(text.includes(`${c.expected.code}: `), text);
      assert.ok(text.includes(c.expected.message), `message fragment missing:\n${text}`);
      if (c.expected.hint !== undefined)
        assert.ok(text.includes(c.expected.hint), `hint missing:\n${text}`);
      if (c.expected.line !== null) {
        const where = `${o.file}:${c.expected.line}:${c.expected.col ?? ''}`;
        assert.ok(text.startsWith(where), `expected to start with ${where}:\n${text}`);
      }
      assert.doesNotMatch(text, stackLine, 'no stack trace without --debug');
      if (o.debug !== undefined) {
        assert.equal(o.debug.code, 2);
        assert.ok(o.debug.stderr.includes(c.expected.message));
        assert.match(o.debug.stderr, stackLine, '--debug prints the stack');
      }
    });
  }
});
