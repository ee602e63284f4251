// Splitting a range of samples into contiguous shards, one per worker thread, in a fixed order.
// Shards start at multiples of `align` (a pass's batch size) so that every batch a shard forms is
// a batch the single-thread pass forms too: per-batch results are then the same bits.

export interface Shard {
  /** Position of the shard in the reduction order. */
  readonly index: number;
  readonly start: number;
  readonly end: number;
}

/**
 * At most `parts` non-empty contiguous shards covering [0, count), in order, each starting at a
 * multiple of `align`, as equal in batches as can be (the first ones get the extra batch).
 */
export function contiguousShards(count: number, parts: number, align = 1): Shard[] {
  const unit = Math.max(1, Math.floor(align));
  const units = Math.ceil(count / unit);
  const n = Math.max(1, Math.min(Math.floor(parts), units));
  const shards: Shard[] = [];
  let u = 0;
  for (let i = 0; i < n && u < units; i++) {
    const take = Math.floor(units / n) + (i < units % n ? 1 : 0);
    const start = u * unit;
    u += take;
    shards.push({ index: i, start, end: Math.min(count, u * unit) });
  }
  return shards;
}
