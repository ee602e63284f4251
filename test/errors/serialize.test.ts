// The one JSON form of errors (summary.json, trials.jsonl, the sweep worker protocol): what a
// reader rebuilds from it is the error that was written, field for field.
import { strict as assert } from 'node:assert';
import {
  ErrorCode,
  ExitCode,
  ScalpelError,
  deserializeError,
  serializeError,
  type SerializedError,
} from '../../src/errors.js';
import { formatError } from '../../src/cli/report-error.js';

/** Through JSON text, as every reader gets it. */
const viaJson = (e: unknown): SerializedError =>
  JSON.parse(JSON.stringify(serializeError(e))) as SerializedError;

describe('error serialisation', () => {
  it('round-trips every field of a ScalpelError, and JSON.stringify uses the same form', () => {
    const e = new ScalpelError(ErrorCode.Data, "tensor 'w' is truncated", {
      location: { file: '/tmp/m.safetensors', line: 3, col: 7, path: 'stages.load.with.path' },
      hint: 'fetch the file again',
      stageId: 'load',
      plugin: 'my-plugin',
      layer: 'dense_1',
      exitCode: ExitCode.stageFailed, // not E_DATA's default (2): must survive the trip
    });
    const json = viaJson(e);
    assert.deepEqual(json, {
      code: 'E_DATA',
      message: "tensor 'w' is truncated",
      hint: 'fetch the file again',
      location: { file: '/tmp/m.safetensors', line: 3, col: 7, path: 'stages.load.with.path' },
      stageId: 'load',
      plugin: 'my-plugin',
      layer: 'dense_1',
      exitCode: 1,
    });
    assert.deepEqual(JSON.parse(JSON.stringify(e)), json);
    const back = deserializeError(json);
    assert.ok(back instanceof ScalpelError);
    assert.equal(back.code, ErrorCode.Data);
    assert.equal(back.exitCode, ExitCode.stageFailed);
    assert.deepEqual(back.location, e.location);
    assert.equal(back.format(), e.format());
  });

  it('leaves out absent fields and restores the default exit code', () => {
    const e = new ScalpelError(ErrorCode.Io, 'file not found: x.csv');
    assert.deepEqual(viaJson(e), { code: 'E_IO', message: 'file not found: x.csv', exitCode: 2 });
    const old = deserializeError({ code: 'E_IO', message: 'file not found: x.csv' }); // older record
    assert.equal(old.exitCode, ExitCode.invalidInput);
    assert.equal(old.hint, undefined);
  });

  it('records anything else as E_INTERNAL with its stack, which the reader keeps as the cause', () => {
    const bug = new TypeError("cannot read properties of undefined (reading 'x')");
    const json = viaJson(bug);
    assert.equal(json.code, 'E_INTERNAL');
    assert.equal(json.message, `unexpected error: ${bug.message}`);
    assert.match(json.hint ?? '', /bug in scalpel or a plugin/);
    assert.equal(json.stack, bug.stack);
    const back = deserializeError(json);
    assert.equal(back.exitCode, ExitCode.stageFailed);
    assert.ok(back.cause instanceof Error);
    assert.equal(back.cause.stack, bug.stack);
    assert.equal(viaJson('a string').message, 'unexpected error: a string');
    // what the CLI prints for the bug in this process is what a reader of the record prints
    assert.equal(back.format(), formatError(bug, false));
    assert.equal(
      formatError(bug, false),
      `E_INTERNAL: unexpected error: ${bug.message}\n  hint: this is a bug in scalpel or a plugin; run with --debug for the stack trace and report it`,
    );
  });

  it('reads an unknown code (a newer scalpel) or exit code as E_INTERNAL with its default', () => {
    const back = deserializeError({ code: 'E_FUTURE', message: 'm', exitCode: 77 });
    assert.equal(back.code, ErrorCode.Internal);
    assert.equal(back.exitCode, ExitCode.stageFailed);
  });
});
