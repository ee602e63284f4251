// Node hashes: the identity of a stage's output. Two nodes with equal hashes produce equal outputs,
// so the hash covers everything that can change them (stage type and version, parameters, extra
// fingerprint material such as file hashes, the hashes of its inputs, the seed, the backend) and
// nothing that cannot (the stage id, the recipe name): another recipe with the same prefix shares
// the cache. Serialised with RFC 8785 canonical JSON so key order never matters.
import { createHash } from 'node:crypto';
import canonicalize from 'canonicalize';
import { ErrorCode, ScalpelError } from '../errors.js';

/** Bumped when the cache layout or the hash material changes, so old entries are not reused. */
export const HASH_FORMAT = 1;

export interface HashMaterial {
  readonly stageType: string;
  readonly stageVersion: string;
  readonly params: Readonly<Record<string, unknown>>;
  /** What StageType.fingerprint returned (undefined when the stage type has none). */
  readonly fingerprint: unknown;
  /** Hashes of the stages in `needs`, in `needs` order. */
  readonly inputs: readonly string[];
  readonly seed: number;
  readonly backend: string;
}

/** The canonical JSON text that is hashed (exposed for debugging and tests). */
export function hashInput(m: HashMaterial): string {
  const doc = {
    format: HASH_FORMAT,
    stageType: m.stageType,
    stageVersion: m.stageVersion,
    params: m.params,
    fingerprint: m.fingerprint === undefined ? null : m.fingerprint,
    inputs: [...m.inputs],
    seed: m.seed,
    backend: m.backend,
  };
  let text: string | undefined;
  try {
    text = canonicalize(doc);
  } catch (e) {
    // NaN, Infinity, cycles or lone surrogates cannot be hashed reproducibly.
    throw new ScalpelError(
      ErrorCode.Internal,
      `cannot hash the parameters of a '${m.stageType}' stage: ${e instanceof Error ? e.message : String(e)}`,
      {
        hint: 'parameters and fingerprints must be plain JSON (no NaN, Infinity or cycles)',
        cause: e,
      },
    );
  }
  if (text === undefined) {
    throw new ScalpelError(ErrorCode.Internal, `cannot hash a '${m.stageType}' stage: not JSON`);
  }
  return text;
}

/** sha256 (hex) of the canonical JSON of the hash material. */
export function nodeHash(m: HashMaterial): string {
  return createHash('sha256').update(hashInput(m), 'utf8').digest('hex');
}

/** The abbreviation shown in tables and logs. */
export function shortHash(hash: string): string {
  return hash.slice(0, 12);
}
