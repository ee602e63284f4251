// The generic `text` source on files written here: a .txt file (whole, or cut at a separator), a
// directory of .txt files in path order, a .jsonl file with a field, and the errors a user can
// cause (missing field naming the line, missing path, bad UTF-8, conflicting options).
import { strict as assert } from 'node:assert';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { isScalpelError } from '../../../src/errors.js';
import { readTextSource } from '../../../src/data/text/text-files.js';
import { tempDir } from '../../helpers/paths.js';

const fails = (code: string, re: RegExp) => (e: unknown) =>
  isScalpelError(e) && e.code === code && re.test(e.message);

describe('text source', () => {
  let dir: string;
  before(() => {
    dir = tempDir();
    writeFileSync(join(dir, 'one.txt'), '\ufeffFirst line\r\nsecond line\r\n');
    writeFileSync(join(dir, 'many.txt'), 'alpha\n===\n\n===\n beta \n===\ngamma\n===\n');
    mkdirSync(join(dir, 'books', 'b'), { recursive: true });
    writeFileSync(join(dir, 'books', 'b', 'a.txt'), 'nested');
    writeFileSync(join(dir, 'books', 'z.txt'), 'last');
    writeFileSync(join(dir, 'books', 'a.txt'), 'first');
    writeFileSync(join(dir, 'books', 'notes.md'), 'not a .txt file');
    mkdirSync(join(dir, 'empty'));
    writeFileSync(
      join(dir, 'docs.jsonl'),
      ['{"body": "doc one", "n": 1}', '', '{"body": "  doc two\\nline 2 "}', '{"n": 3}'].join('\n'),
    );
    writeFileSync(join(dir, 'good.jsonl'), '{"text": "a"}\n{"text": "b"}\n');
    writeFileSync(join(dir, 'latin1.txt'), Buffer.from([0x43, 0x61, 0x66, 0xe9, 0x0a]));
  });

  it('reads a .txt file as one document: BOM dropped, CRLF → LF, trimmed', async () => {
    const docs = await readTextSource({ path: join(dir, 'one.txt') });
    assert.deepEqual(docs, [
      { id: 'text/one.txt', source: 'text', text: 'First line\nsecond line' },
    ]);
  });

  it('cuts a .txt file at a separator, dropping empty pieces', async () => {
    const docs = await readTextSource({ path: join(dir, 'many.txt'), separator: '===' });
    assert.deepEqual(
      docs.map((d) => [d.id, d.text]),
      [
        ['text/many.txt#0', 'alpha'],
        ['text/many.txt#1', 'beta'],
        ['text/many.txt#2', 'gamma'],
      ],
    );
  });

  it('reads every .txt below a directory, sorted by relative path', async () => {
    const docs = await readTextSource({ path: join(dir, 'books') });
    assert.deepEqual(
      docs.map((d) => [d.id, d.text]),
      [
        ['text/a.txt', 'first'],
        ['text/b/a.txt', 'nested'],
        ['text/z.txt', 'last'],
      ],
    );
  });

  it('reads a .jsonl file, one document per non-blank line, ids by line number', async () => {
    const good = await readTextSource({ path: join(dir, 'good.jsonl') });
    assert.deepEqual(
      good.map((d) => [d.id, d.text]),
      [
        ['text/good.jsonl:1', 'a'],
        ['text/good.jsonl:2', 'b'],
      ],
    );
    writeFileSync(join(dir, 'body.jsonl'), '{"body": " x\\ny ", "n": 1}\n\n{"body": "z"}\n');
    const body = await readTextSource({ path: join(dir, 'body.jsonl'), field: 'body' });
    assert.deepEqual(
      body.map((d) => [d.id, d.text]),
      [
        ['text/body.jsonl:1', 'x\ny'],
        ['text/body.jsonl:3', 'z'],
      ],
    );
  });

  it('names the line of a .jsonl record without the field', async () => {
    const path = join(dir, 'docs.jsonl');
    await assert.rejects(readTextSource({ path, field: 'body' }), (e: unknown) => {
      assert.ok(isScalpelError(e));
      assert.equal(e.code, 'E_DATA');
      assert.match(e.message, /docs\.jsonl:4: no 'body' field/);
      assert.deepEqual(e.location, { file: path, line: 4 });
      assert.match(e.hint ?? '', /this line has: n/);
      return true;
    });
    // the default field is 'text', which line 1 lacks
    await assert.rejects(
      readTextSource({ path }),
      fails('E_DATA', /docs\.jsonl:1: no 'text' field/),
    );
  });

  it('reports a missing path as E_IO and bad contents as E_DATA', async () => {
    await assert.rejects(
      readTextSource({ path: join(dir, 'nope.txt') }),
      fails('E_IO', /not found: .*nope\.txt/),
    );
    await assert.rejects(
      readTextSource({ path: join(dir, 'empty') }),
      fails('E_DATA', /no \.txt files/),
    );
    await assert.rejects(
      readTextSource({ path: join(dir, 'latin1.txt') }),
      fails('E_DATA', /latin1\.txt is not valid UTF-8 \(first bad byte at offset 3\)/),
    );
    writeFileSync(join(dir, 'broken.jsonl'), '{"text": "ok"}\n{"text": \n');
    await assert.rejects(
      readTextSource({ path: join(dir, 'broken.jsonl') }),
      fails('E_DATA', /broken\.jsonl:2: invalid JSON/),
    );
    writeFileSync(join(dir, 'number.jsonl'), '{"text": 5}\n');
    await assert.rejects(
      readTextSource({ path: join(dir, 'number.jsonl') }),
      fails('E_DATA', /number\.jsonl:1: field 'text' is number/),
    );
  });

  it('rejects options that do not fit the path', async () => {
    await assert.rejects(
      readTextSource({ path: join(dir, 'one.txt'), field: 'x' }),
      fails('E_RECIPE_SCHEMA', /`field` is for \.jsonl/),
    );
    await assert.rejects(
      readTextSource({ path: join(dir, 'good.jsonl'), separator: '\n' }),
      fails('E_RECIPE_SCHEMA', /`separator` is for \.txt/),
    );
    await assert.rejects(
      readTextSource({ path: join(dir, 'one.txt'), separator: '' }),
      fails('E_RECIPE_SCHEMA', /separator must not be empty/),
    );
  });
});
