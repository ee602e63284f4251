// A checkpoint's tensors as a read-on-demand weights map for the HfCausalLmModel constructor:
// `get` reads the tensor from disk each time it is called and keeps nothing, so the constructor,
// which takes each tensor once and turns it into a variable straight away, never holds more than
// one tensor's float32 copy (peak memory ≈ the model once, not twice) — and with `readInto`, not
// even that: the constructor hands it the new tensor's own storage.
import type { HfCheckpoint } from './checkpoint-dir.js';

/** What the map needs of a checkpoint: synchronous reads (into a given array, if it can). */
export type TensorReader = Pick<HfCheckpoint, 'readSync'> &
  Partial<Pick<HfCheckpoint, 'readIntoSync'>>;

/** A weights map that can also write a tensor's values into storage the caller gives. */
export interface InPlaceWeights extends ReadonlyMap<string, Float32Array> {
  readInto(name: string, dst: Float32Array): void;
}

export function readsInPlace(w: ReadonlyMap<string, Float32Array>): w is InPlaceWeights {
  return typeof (w as Partial<InPlaceWeights>).readInto === 'function';
}

/**
 * The tensors `names` of `reader`. Iterating values or entries reads every tensor in turn (each
 * array is the caller's to drop); `has`, `keys` and `size` read nothing.
 */
export class CheckpointWeights implements InPlaceWeights {
  private readonly names: ReadonlySet<string>;

  constructor(
    private readonly reader: TensorReader,
    names: Iterable<string>,
  ) {
    this.names = new Set(names);
  }

  get size(): number {
    return this.names.size;
  }

  has(name: string): boolean {
    return this.names.has(name);
  }

  /** A fresh read of the tensor (not cached): call once per tensor. */
  get(name: string): Float32Array | undefined {
    return this.names.has(name) ? this.reader.readSync(name) : undefined;
  }

  /** Tensor `name`'s values into `dst` (its exact size): no copy when the reader can. */
  readInto(name: string, dst: Float32Array): void {
    if (this.reader.readIntoSync !== undefined) this.reader.readIntoSync(name, dst);
    else dst.set(this.reader.readSync(name));
  }

  keys(): MapIterator<string> {
    return this.names.keys();
  }

  *values(): MapIterator<Float32Array> {
    for (const name of this.names) yield this.reader.readSync(name);
  }

  *entries(): MapIterator<[string, Float32Array]> {
    for (const name of this.names) yield [name, this.reader.readSync(name)];
  }

  [Symbol.iterator](): MapIterator<[string, Float32Array]> {
    return this.entries();
  }

  forEach(
    fn: (value: Float32Array, key: string, map: ReadonlyMap<string, Float32Array>) => void,
  ): void {
    for (const [name, value] of this.entries()) fn(value, name, this);
  }
}
