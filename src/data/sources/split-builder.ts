// Accumulates validated records of one split into flat typed arrays (growing when the final count
// is not known in advance, as for csv/jsonl).
import type { RawSplit } from './types.js';

export class SplitBuilder {
  private values: Uint8Array | Float64Array;
  private labels: Int32Array;
  private ids: Int32Array;
  private n = 0;

  constructor(
    readonly name: string,
    readonly sampleSize: number,
    readonly pixels: boolean,
    capacity = 1024,
  ) {
    const cap = Math.max(1, capacity);
    this.values = pixels ? new Uint8Array(cap * sampleSize) : new Float64Array(cap * sampleSize);
    this.labels = new Int32Array(cap);
    this.ids = new Int32Array(cap);
  }

  get count(): number {
    return this.n;
  }

  private grow(): void {
    const cap = this.labels.length * 2;
    const values = this.pixels
      ? new Uint8Array(cap * this.sampleSize)
      : new Float64Array(cap * this.sampleSize);
    values.set(this.values);
    this.values = values;
    const labels = new Int32Array(cap);
    labels.set(this.labels);
    this.labels = labels;
    const ids = new Int32Array(cap);
    ids.set(this.ids);
    this.ids = ids;
  }

  /** Append one record; `values` must already be validated (length sampleSize, in range). */
  add(values: ArrayLike<number>, label: number, id: number): void {
    if (this.n === this.labels.length) this.grow();
    const off = this.n * this.sampleSize;
    for (let k = 0; k < this.sampleSize; k++) this.values[off + k] = values[k] as number;
    this.labels[this.n] = label;
    this.ids[this.n] = id;
    this.n++;
  }

  build(): RawSplit {
    const n = this.n;
    return {
      name: this.name,
      count: n,
      values: this.values.slice(0, n * this.sampleSize),
      labels: this.labels.slice(0, n),
      ids: this.ids.slice(0, n),
    };
  }
}
