// The multiple-choice task file reader: round trip with the writer, the `gold` alias, and E_DATA
// errors naming file and line; E_IO for a missing file.
import { strict as assert } from 'node:assert';
import { rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  readMultipleChoiceJsonl,
  writeMultipleChoiceJsonl,
} from '../../src/eval/multiple-choice-jsonl.js';
import { tempDir } from '../helpers/paths.js';
import { thrown } from './fixtures.js';

describe('eval: multiple-choice jsonl task files', () => {
  let dir = '';
  before(() => {
    dir = tempDir('scalpel-mc-');
  });
  after(() => {
    rmSync(dir, { recursive: true, force: true });
  });

  it('reads back what the writer wrote; accepts gold for label, skips blank lines, ignores other fields', async () => {
    const file = join(dir, 'task.jsonl');
    const examples = [
      { id: 'd1#0', context: 'Once "upon" a', choices: [' time', ' é\n'], label: 0 },
      { context: 'x', choices: [' y'], label: 0 },
    ];
    await writeMultipleChoiceJsonl(file, examples);
    assert.deepEqual(await readMultipleChoiceJsonl(file), examples);
    const other = join(dir, 'gold.jsonl');
    writeFileSync(other, '\n{"context":"a","choices":[" b"," c"],"gold":1,"source":"mine"}\n\n');
    assert.deepEqual(await readMultipleChoiceJsonl(other), [
      { context: 'a', choices: [' b', ' c'], label: 1 },
    ]);
  });

  const good = '{"context":"a","choices":[" b"," c"],"label":0}';
  const cases: [string, string, RegExp][] = [
    ['bad JSON', '{"context": "a", ', /invalid JSON/],
    ['an array', '[1, 2]', /not a JSON object but an array/],
    ['no context', '{"choices":[" b"],"label":0}', /no 'context' field/],
    ['no choices', '{"context":"a","label":0}', /no 'choices' field/],
    ['empty choices', '{"context":"a","choices":[],"label":0}', /'choices' is empty/],
    [
      'a non-string choice',
      '{"context":"a","choices":[" b",3],"label":0}',
      /choice 1 is not a string/,
    ],
    ['no label', '{"context":"a","choices":[" b"]}', /no 'label' \(or 'gold'\) field/],
    [
      'label out of range',
      '{"context":"a","choices":[" b"," c"],"label":2}',
      /label 2 is out of range for 2 choices/,
    ],
    ['negative label', '{"context":"a","choices":[" b"],"gold":-1}', /label -1 is out of range/],
    [
      'fractional label',
      '{"context":"a","choices":[" b"," c"],"label":0.5}',
      /label 0.5 is not an integer/,
    ],
    [
      'label and gold disagree',
      '{"context":"a","choices":[" b"," c"],"label":0,"gold":1}',
      /disagree/,
    ],
  ];
  for (const [what, line, pattern] of cases) {
    it(`E_DATA naming the line for ${what}`, async () => {
      const file = join(dir, 'bad.jsonl');
      // Line 4: a blank line still counts as a line.
      writeFileSync(file, `${good}\n${good}\n\n${line}\n${good}\n`);
      const e = await thrown(() => readMultipleChoiceJsonl(file));
      assert.equal(e.code, 'E_DATA');
      assert.ok(e.message.startsWith(`${file}:4: `), e.message);
      assert.match(e.message, pattern);
      assert.equal(e.location?.line, 4);
    });
  }

  it('E_DATA for a file without examples, E_IO for a missing file', async () => {
    const empty = join(dir, 'empty.jsonl');
    writeFileSync(empty, '\n\n');
    assert.equal((await thrown(() => readMultipleChoiceJsonl(empty))).code, 'E_DATA');
    const missing = await thrown(() => readMultipleChoiceJsonl(join(dir, 'nope.jsonl')));
    assert.equal(missing.code, 'E_IO');
    assert.match(missing.message, /task file not found: .*nope\.jsonl/);
  });
});
