// What the data-parallel benchmarks share: samples in shared memory (as a stage reads a split from
// its artifact), short digests of results, to tell whether two thread counts gave the same bits,
// and the record of the machine and its load.
import { createHash } from 'node:crypto';
import { availableParallelism, cpus } from 'node:os';
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

/** The machine and its load around a run, as every thread benchmark records them. */
export function machineRecord(
  loadBefore: readonly number[],
  loadAfter: readonly number[],
): {
  machine: { cpus: number; parallelism: number; model: string };
  load: { before: number[]; after: number[]; note: string };
} {
  const round2 = (x: number): number => Math.round(x * 100) / 100;
  return {
    machine: {
      cpus: cpus().length,
      parallelism: availableParallelism(),
      model: cpus()[0]?.model ?? '',
    },
    load: {
      before: loadBefore.map(round2),
      after: loadAfter.map(round2),
      note: 'os.loadavg() (1, 5, 15 min), as uptime prints it',
    },
  };
}
