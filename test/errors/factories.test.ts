// The error factories: code, message, location and hint of each, and that a read of a real
// missing file or directory gives the OS's reason.
import { strict as assert } from 'node:assert';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  badData,
  badStageParam,
  checkPathHint,
  fileNotFound,
  invalidJson,
  readFailed,
  truncatedFile,
  unknownName,
  writeFailed,
} from '../../src/error-factories.js';
import { ErrorCode, ExitCode } from '../../src/errors.js';

/** What the OS throws when reading `path` (a real error, not a hand-made one). */
function readError(path: string): unknown {
  try {
    readFileSync(path);
  } catch (e) {
    return e;
  }
  throw new Error(`${path} could be read`);
}

describe('error factories', () => {
  let dir: string;
  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'scalpel-err-'));
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('readFailed: a missing file is "<what> not found" (E_IO, exit 2), unlocated', () => {
    const path = join(dir, 'nope.idx');
    const cause = readError(path);
    const e = readFailed(path, cause, { what: 'IDX file' });
    assert.equal(e.code, ErrorCode.Io);
    assert.equal(e.exitCode, ExitCode.invalidInput);
    assert.equal(e.message, `IDX file not found: ${path}`);
    // the caller that knows the recipe line adds it (a missing file is no place to point at)
    assert.equal(e.location, undefined);
    assert.equal(e.hint, checkPathHint);
    assert.equal(e.cause, cause);
    assert.equal(e.message, fileNotFound(path, { what: 'IDX file' }).message);
  });

  it('readFailed: another OS error names its code and gets a hint of its own', () => {
    const e = readFailed(dir, readError(dir)); // reading a directory: EISDIR
    assert.equal(e.code, ErrorCode.Io);
    assert.equal(e.message, `cannot read ${dir}: EISDIR`);
    assert.equal(e.hint, 'give the path of a file, not a directory');
    const perm = readFailed('/x', Object.assign(new Error('denied'), { code: 'EACCES' }), {
      what: 'model file',
      location: { file: '/r.yaml', line: 4, path: 'stages.load.with.path' },
      stageId: 'load',
    });
    assert.equal(perm.message, 'cannot read model file /x: EACCES');
    assert.equal(perm.hint, 'check the file permissions');
    assert.deepEqual(perm.location, { file: '/r.yaml', line: 4, path: 'stages.load.with.path' });
    assert.equal(perm.stageId, 'load');
  });

  it('writeFailed: E_IO with the reason and the disk/permission hint', () => {
    const e = writeFailed('/ro/out.bin', new Error('EROFS: read-only file system'), {
      what: 'checkpoint',
    });
    assert.equal(e.code, ErrorCode.Io);
    assert.equal(e.message, 'cannot write checkpoint /ro/out.bin: EROFS: read-only file system');
    assert.match(e.hint ?? '', /writable/);
  });

  it('badData, truncatedFile, invalidJson: E_DATA naming the file (and byte offset)', () => {
    const bad = badData('/d/x.bin', "weight 'w' has 3 bits set", { offset: 128, layer: 'w' });
    assert.equal(bad.code, ErrorCode.Data);
    assert.equal(bad.exitCode, ExitCode.invalidInput);
    assert.equal(bad.message, "/d/x.bin at byte 128: weight 'w' has 3 bits set");
    assert.equal(bad.layer, 'w');
    assert.deepEqual(bad.location, { file: '/d/x.bin' }); // E_DATA points at the bad file
    assert.match(bad.hint ?? '', /corrupt/);
    assert.equal(badData('/d/x.bin', 'empty', { hint: 'h' }).message, '/d/x.bin: empty');
    const t = truncatedFile('/d/m.safetensors', { offset: 8, expected: 100, got: 40 });
    assert.equal(t.code, ErrorCode.Data);
    assert.equal(
      t.message,
      '/d/m.safetensors is truncated: expected 100 bytes at offset 8, got 40',
    );
    let syntax: unknown;
    try {
      JSON.parse('{"a": ');
    } catch (e) {
      syntax = e;
    }
    const j = invalidJson('/d/config.json', syntax, { hint: 'fetch it again' });
    assert.equal(j.code, ErrorCode.Data);
    assert.ok(j.message.startsWith('/d/config.json is not valid JSON: '), j.message);
    assert.ok(j.message.endsWith((syntax as Error).message), j.message);
    assert.equal(j.hint, 'fetch it again');
  });

  it('unknownName: E_UNKNOWN_NAME, the closest name as did-you-mean and the valid ones', () => {
    const e = unknownName('model family', 'tfjs-layer', ['hf-causal-lm', 'tfjs-layers'], {
      moreHint: 'plugins add more',
    });
    assert.equal(e.code, ErrorCode.UnknownName);
    assert.equal(e.exitCode, ExitCode.invalidInput);
    assert.equal(e.message, "unknown model family 'tfjs-layer'");
    assert.equal(
      e.hint,
      "did you mean 'tfjs-layers'? (valid model families: 'hf-causal-lm', 'tfjs-layers'); plugins add more",
    );
    const far = unknownName('pruner', 'zzz', ['magnitude', 'icbs'], {
      prefix: "stage 'p'",
      stageId: 'p',
    });
    assert.equal(far.message, "stage 'p': unknown pruner 'zzz'");
    assert.equal(far.hint, "valid pruners: 'icbs', 'magnitude'");
    assert.equal(far.stageId, 'p');
    assert.equal(unknownName('solver', 'x', []).hint, 'no solver is defined here');
  });

  it('badStageParam: E_RECIPE_SCHEMA at stages.<id>.with.<key>', () => {
    const e = badStageParam('prune', 'pattern', 'needs a fan-in divisible by 4', 'exclude it');
    assert.equal(e.code, ErrorCode.RecipeSchema);
    assert.equal(e.message, 'stages.prune.with.pattern: needs a fan-in divisible by 4');
    assert.equal(e.stageId, 'prune');
    assert.equal(e.hint, 'exclude it');
  });
});
