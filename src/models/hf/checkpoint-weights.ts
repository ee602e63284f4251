// A checkpoint's tensors as a read-on-demand weights map for the HfCausalLmModel constructor:
// `get` reads the tensor from disk each time it is called and keeps nothing, so the constructor,
// which takes each tensor once and turns it into a variable straight away, never holds more than
// one tensor's float32 copy (peak memory ≈ the model once, not twice).
import type { HfCheckpoint } from './checkpoint-dir.js';

/** What the map needs of a checkpoint: synchronous reads. */
export type TensorReader = Pick<HfCheckpoint, 'readSync'>;

/**
 * The tensors `names` of `reader`. Iterating values or entries reads every tensor in turn (each
 * array is the caller's to drop); `has`, `keys` and `size` read nothing.
 */
export class CheckpointWeights implements ReadonlyMap<string, Float32Array> {
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
