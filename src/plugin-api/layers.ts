// How scalpel sees a prunable weight tensor: every kernel as a row-major matrix
// [fanIn, units]. For a Dense kernel [in, out] that is the kernel itself (index i*out + o); for a
// Conv2D kernel [kh, kw, cin, cout] the rows are the flattened (kh, kw, cin) positions, so
// "per-output", "per-input" and N:M groups along the input dimension mean the same for every kind.
export type PrunableLayerKind = 'dense' | 'conv2d' | 'conv1d' | 'depthwiseConv2d';

export interface PrunableLayerInfo {
  /** tfjs layer name (what `layers.include/exclude` globs match). */
  readonly name: string;
  readonly kind: PrunableLayerKind;
  /** The kernel's tfjs shape, e.g. [784, 512] or [3, 3, 1, 32]. */
  readonly kernelShape: readonly number[];
  /** Product of all kernel dims but the last. */
  readonly fanIn: number;
  /** Last kernel dim (output units / channels). */
  readonly units: number;
  /** fanIn * units. */
  readonly paramCount: number;
  /**
   * The unit of sequential pruning, e.g. 'model.layers.3' for every projection of a transformer
   * block: operators sharing a block are pruned together from inputs recorded after all earlier
   * blocks were pruned, and OWL counts outliers per block. Absent: the operator is its own block.
   * Operators are listed in forward order, so blocks appear in the order inputs reach them.
   */
  readonly block?: string;
}

/** The block an operator belongs to (its own name when the family sets none). */
export function blockOf(info: PrunableLayerInfo): string {
  return info.block ?? info.name;
}

/** Keep-mask of one layer: 1 = weight kept, 0 = pruned; same layout as the kernel. */
export type Mask = Uint8Array;
