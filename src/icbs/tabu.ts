// The tabu list of one layer: a FIFO of recently optimised weight indices that block selection
// skips. Capacity is tabuFraction × (non-frozen weights of the layer); 0 disables it.
export class TabuList {
  private readonly ring: Int32Array;
  private head = 0;
  private size = 0;
  /** membership[j] counts how many times j is in the ring (an index can enter twice). */
  private readonly membership: Uint16Array;

  constructor(
    readonly capacity: number,
    layerSize: number,
  ) {
    this.ring = new Int32Array(Math.max(0, capacity));
    this.membership = new Uint16Array(capacity > 0 ? layerSize : 0);
  }

  get enabled(): boolean {
    return this.capacity > 0;
  }

  has(j: number): boolean {
    return this.capacity > 0 && (this.membership[j] ?? 0) > 0;
  }

  /** Append indices, evicting the oldest beyond capacity. */
  push(indices: ArrayLike<number>): void {
    if (this.capacity === 0) return;
    for (let t = 0; t < indices.length; t++) {
      const j = indices[t] as number;
      if (this.size === this.capacity) {
        const old = this.ring[this.head] as number;
        this.membership[old] = (this.membership[old] as number) - 1;
      } else {
        this.size++;
      }
      this.ring[this.head] = j;
      this.membership[j] = (this.membership[j] as number) + 1;
      this.head = (this.head + 1) % this.capacity;
    }
  }

  /** Entries in the FIFO (with repeats). */
  get length(): number {
    return this.size;
  }

  /**
   * Remove the oldest entry early; returns its index and whether it is no longer tabu, or
   * undefined when the list is empty.
   */
  evictOldest(): { index: number; released: boolean } | undefined {
    if (this.size === 0) return undefined;
    const tail = (this.head - this.size + this.capacity) % this.capacity;
    const j = this.ring[tail] as number;
    this.size--;
    const left = (this.membership[j] as number) - 1;
    this.membership[j] = left;
    return { index: j, released: left === 0 };
  }

  /** Number of distinct indices currently tabu. */
  count(): number {
    let c = 0;
    for (let j = 0; j < this.membership.length; j++) if ((this.membership[j] as number) > 0) c++;
    return c;
  }
}
