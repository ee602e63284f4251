// Float64 buffers that outlive one sequential prune unit: the Gram matrices of block l are handed
// back once its pruner has returned and reused, zeroed, for block l + 1. Without this, every block
// of GPT-2 small allocates ~90 MB of fresh Gram matrices and leaves the last block's to the
// garbage collector, which runs late on external memory and so adds to the peak RSS.
export class Float64Scratch {
  private readonly free = new Map<number, Float64Array[]>();

  /** A zero-filled array of `length`: a returned one if there is one, else a new one. */
  take(length: number): Float64Array {
    const reused = this.free.get(length)?.pop();
    if (reused === undefined) return new Float64Array(length);
    reused.fill(0);
    return reused;
  }

  /** Arrays nobody reads any more (each at most once; undefined entries are skipped). */
  giveBack(arrays: Iterable<Float64Array | undefined>): void {
    for (const a of arrays) {
      if (a === undefined) continue;
      const list = this.free.get(a.length);
      if (list === undefined) this.free.set(a.length, [a]);
      else if (!list.includes(a)) list.push(a);
    }
  }
}
