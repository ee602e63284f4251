// Typed arrays that outlive one sequential prune unit: block l's Gram matrices and kernel copies
// are handed back once its pruner has returned and its weights are applied, and reused for block
// l + 1. Without this every block of GPT-2 small allocates ~120 MB of fresh arrays and leaves the
// previous block's to the garbage collector, which runs late on external memory (ArrayBuffers) —
// the backlog adds to the peak RSS and fragments the C heap.
type NumericArray = Float32Array | Float64Array;

export class ArrayScratch<T extends NumericArray> {
  private readonly free = new Map<number, T[]>();

  constructor(private readonly make: (length: number) => T) {}

  /** An array of `length`, zero-filled: a returned one if there is one, else a new one. */
  take(length: number): T {
    const reused = this.free.get(length)?.pop();
    if (reused === undefined) return this.make(length);
    reused.fill(0);
    return reused;
  }

  /** Arrays nobody reads any more (each at most once; undefined entries are skipped). */
  giveBack(arrays: Iterable<T | undefined>): void {
    for (const a of arrays) {
      if (a === undefined) continue;
      const list = this.free.get(a.length);
      if (list === undefined) this.free.set(a.length, [a]);
      else if (!list.includes(a)) list.push(a);
    }
  }
}
