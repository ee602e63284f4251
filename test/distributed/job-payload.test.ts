// The pieces of the bullmq executor that need no Redis: --redis checking and redaction, job ids,
// payload validation, failure reasons that carry a ScalpelError, the cache identity.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ScalpelError, ErrorCode, serializeError } from '../../src/errors.js';
import { checkRedisUrl, redactedUrl } from '../../src/distributed/redis-connection.js';
import {
  JOB_FORMAT,
  decodeFailure,
  encodeFailure,
  jobIdOf,
  parsePayload,
  sha256Text,
  sweepIdOf,
  sweepIdOfJob,
  type NodeJobPayload,
} from '../../src/distributed/job-payload.js';
import { cacheIdentity } from '../../src/distributed/cache-identity.js';
import { tempDir } from '../helpers/paths.js';

const hash = 'cd'.repeat(32);

function payload(over: Partial<Record<keyof NodeJobPayload, unknown>> = {}): unknown {
  const text = 'version: 1\n';
  return {
    format: JOB_FORMAT,
    sweepId: sweepIdOf('ab'.repeat(32)),
    scalpelVersion: '1.2.3',
    recipe: { name: 'r.yaml', text, sha256: sha256Text(text), baseDir: '' },
    set: ['stages.a.with.x=1'],
    hash,
    inputs: [],
    stageId: 'a',
    uses: 'toy-model',
    trials: [0, 1],
    plannedBackend: 'cpu',
    plugins: [],
    cacheId: '0'.repeat(32),
    overwrite: false,
    ...over,
  };
}

describe('distributed: --redis, job ids and payloads', () => {
  it('accepts redis:// and rediss:// URLs with a host; anything else is a usage error naming --redis', () => {
    assert.equal(checkRedisUrl('redis://h:6379/2'), 'redis://h:6379/2');
    assert.equal(checkRedisUrl('rediss://:pw@h'), 'rediss://:pw@h');
    for (const bad of ['', 'localhost:6379', 'http://h:6379', 'redis://', 'not a url']) {
      assert.throws(
        () => checkRedisUrl(bad),
        (e: unknown) =>
          e instanceof ScalpelError && e.code === ErrorCode.Usage && e.message.includes('--redis'),
        bad,
      );
    }
    assert.throws(() => checkRedisUrl(undefined), /--redis is required/);
  });

  it('never shows a password', () => {
    assert.equal(redactedUrl('redis://user:s3cret@h:6379/0'), 'redis://user:***@h:6379/0');
    assert.equal(redactedUrl('redis://h:6379'), 'redis://h:6379');
    assert.throws(
      () => checkRedisUrl('ftp://u:s3cret@h'),
      (e: unknown) => e instanceof Error && !e.message.includes('s3cret'),
    );
  });

  it('job ids are sweep id + node hash, and name their sweep', () => {
    const id = sweepIdOf('0123456789abcdef'.repeat(4));
    assert.equal(id, 'sw0123456789abcdef');
    assert.equal(jobIdOf(id, hash), `${id}-${hash}`);
    assert.equal(sweepIdOfJob(jobIdOf(id, hash)), id);
    assert.equal(sweepIdOfJob('version-test'), undefined);
    assert.equal(sweepIdOfJob(`${id}-${hash}x`), undefined);
  });

  it('parsePayload accepts a well-formed job and rejects each malformed field', () => {
    assert.equal(parsePayload(payload()).hash, hash);
    const cases: [Partial<Record<keyof NodeJobPayload, unknown>>, RegExp][] = [
      [
        { format: JOB_FORMAT + 1 },
        new RegExp(`job format ${JOB_FORMAT + 1}, this worker reads format ${JOB_FORMAT}`),
      ],
      [{ recipe: { name: 'r.yaml' } }, /recipe/],
      [{ hash: 7 }, /hash/],
      [{ set: ['a', 3] }, /set, inputs or plugins/],
      [{ trials: ['0'] }, /trials/],
      [{ backend: 'webgl' }, /backend/],
      [{ overwrite: 'no' }, /overwrite/],
    ];
    for (const [over, re] of cases)
      assert.throws(() => parsePayload(payload(over)), re, JSON.stringify(over));
    assert.throws(() => parsePayload('job'), /not an object/);
  });

  it('a failure reason carries the serialized ScalpelError; other reasons decode to nothing', () => {
    const e = new ScalpelError(ErrorCode.Plugin, 'no plugin', {
      hint: 'use --plugins',
      plugin: 'p',
    });
    const decoded = decodeFailure(encodeFailure(serializeError(e)));
    assert.deepEqual(decoded, e.toJSON());
    assert.equal(decodeFailure('job stalled more than allowable limit'), undefined);
    assert.equal(decodeFailure('scalpel-error:{torn'), undefined);
  });

  it('a cache root has one random identity, created once', () => {
    const root = tempDir('scalpel-cache-id-');
    const id = cacheIdentity(root);
    assert.match(id, /^[0-9a-f]{32}$/);
    assert.equal(cacheIdentity(root), id);
    assert.equal(readFileSync(join(root, 'cache-id'), 'utf8').trim(), id);
    assert.notEqual(cacheIdentity(tempDir('scalpel-cache-id-')), id);
  });
});
