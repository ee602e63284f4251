// Float64 scratch arrays reused across the layers of one SparseGPT call: the float64 copy of each
// kernel and the per-block scores are the largest short-lived arrays of a prune, and allocating
// them fresh per layer (GPT-2 small: ~60 MB per block) leaves the garbage collector, which runs
// late on external memory, a backlog that adds to the peak RSS and fragments the C heap.
export class Float64Workspace {
  private readonly arrays = new Map<string, Float64Array>();

  /**
   * An array of `length` for `purpose`, with undefined contents: the previous one's buffer when it
   * is large enough (a view of its start), else a new one. Valid until the next call for the same
   * purpose.
   */
  take(purpose: string, length: number): Float64Array {
    const held = this.arrays.get(purpose);
    if (held !== undefined && held.length >= length) return held.subarray(0, length);
    const made = new Float64Array(length);
    this.arrays.set(purpose, made);
    return made;
  }
}
