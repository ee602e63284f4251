// The n² buffers of a block QUBO, reused from step to step of one run: the float64 Q and its
// scaled float32 copy are 128 + 64 MB at blockSize 4096, and a fresh array of that size costs
// more in page faults than filling it (bench/icbs-lm-step.ts). A step's buffers are valid until
// the next step starts; solvers copy what they keep.
export class BlockBuffers {
  private q = new Float64Array(0);
  private scaled = new Float32Array(0);

  /** n² float64 entries for Q. */
  quboFor(n: number): Float64Array {
    if (this.q.length < n * n) this.q = new Float64Array(n * n);
    return this.q.subarray(0, n * n);
  }

  /** n² float32 entries for the scaled Q handed to the solver. */
  scaledFor(n: number): Float32Array {
    if (this.scaled.length < n * n) this.scaled = new Float32Array(n * n);
    return this.scaled.subarray(0, n * n);
  }
}
