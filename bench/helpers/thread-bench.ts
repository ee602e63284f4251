// What the data-parallel benchmarks share: samples in shared memory (as a stage reads a split from
// its artifact) and short digests of results, to tell whether two thread counts gave the same bits.
import { createHash } from 'node:crypto';
import type { Samples } from '../../src/plugin-api/dataset.js';

/** Samples with x in shared memory, as every stage of a run reads a split from its artifact. */
export function sharedSamples(s: Samples): Samples {
  const x = new Float32Array(new SharedArrayBuffer(s.x.length * 4));
  x.set(s.x);
  return { count: s.count, sampleShape: s.sampleShape, x, y: s.y, ids: s.ids };
}

/** sha256 (16 hex digits) of arrays' bytes and numbers (as float64). */
export function digest(...arrays: (ArrayBufferView | number)[]): string {
  const h = createHash('sha256');
  for (const a of arrays) {
    if (typeof a === 'number') h.update(new Float64Array([a]));
    else h.update(Buffer.from(a.buffer, a.byteOffset, a.byteLength));
  }
  return h.digest('hex').slice(0, 16);
}
