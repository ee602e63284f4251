// The WebAssembly SIMD field kernel (wasm/field-update.wat), bit-identical to jsFieldKernel.
// S and the fields live in one WasmMemory that the main thread shares with the workers.
import type { FieldKernel, SymmetricQubo } from './anneal.js';
import { fieldUpdateWasmBase64 } from './wasm/field-update-wasm.js';

// The tsconfig's libs (ES2022, node 20 types) do not declare WebAssembly: the few members used
// here, typed locally.
/** A WasmMemory (shared: its buffer is a SharedArrayBuffer). */
export interface WasmMemory {
  readonly buffer: ArrayBufferLike;
}
interface WasmModule {
  readonly __brand?: 'WebAssembly.Module';
}
interface WasmApi {
  Memory: new (d: { initial: number; maximum: number; shared: boolean }) => WasmMemory;
  Module: new (bytes: Uint8Array) => WasmModule;
  Instance: new (
    m: WasmModule,
    imports: Record<string, Record<string, unknown>>,
  ) => { exports: Record<string, unknown> };
}
const WA = (globalThis as unknown as { WebAssembly: WasmApi }).WebAssembly;

let compiled: WasmModule | undefined;

/** The compiled kernel module (compiled once per thread). */
function kernelModule(): WasmModule {
  compiled ??= new WA.Module(Buffer.from(fieldUpdateWasmBase64, 'base64'));
  return compiled;
}

/** Whether this runtime runs the kernel (WebAssembly SIMD + shared memory). */
export function wasmKernelAvailable(): boolean {
  try {
    const memory = new WA.Memory({ initial: 1, maximum: 1, shared: true });
    new WA.Instance(kernelModule(), { env: { memory } });
    return true;
  } catch {
    return false;
  }
}

/**
 * Byte layout of a problem's shared memory: S (n² float32) at 0, then one field slot of n float64
 * per worker. Every region starts on a 16-byte boundary (v128 loads).
 */
export interface SharedLayout {
  readonly n: number;
  readonly slots: number;
  readonly sOffset: number;
  readonly slotBytes: number;
  readonly fieldsOffset: number;
  readonly totalBytes: number;
}

const align16 = (b: number): number => Math.ceil(b / 16) * 16;

export function sharedLayout(n: number, slots: number): SharedLayout {
  const fieldsOffset = align16(n * n * 4);
  const slotBytes = align16(n * 8);
  return {
    n,
    slots,
    sOffset: 0,
    slotBytes,
    fieldsOffset,
    totalBytes: fieldsOffset + slots * slotBytes,
  };
}

/** A shared memory large enough for `layout` (whole 64 KiB pages). */
export function createSharedMemory(layout: SharedLayout): WasmMemory {
  const pages = Math.max(1, Math.ceil(layout.totalBytes / 65536));
  return new WA.Memory({ initial: pages, maximum: pages, shared: true });
}

/** S as a view on the shared memory. */
export function sharedS(memory: WasmMemory, layout: SharedLayout): Float32Array {
  return new Float32Array(memory.buffer, layout.sOffset, layout.n * layout.n);
}

/** A field kernel over slot `slot` of a shared memory holding S. */
export function wasmFieldKernel(
  memory: WasmMemory,
  layout: SharedLayout,
  slot: number,
  p: SymmetricQubo,
): FieldKernel {
  const instance = new WA.Instance(kernelModule(), { env: { memory } });
  const update = instance.exports['update'] as (f: number, a: number, b: number, n: number) => void;
  const n = layout.n;
  const fOffset = layout.fieldsOffset + slot * layout.slotBytes;
  const rowBytes = n * 4;
  const sOffset = layout.sOffset;
  if (p.n !== n) throw new Error(`wasmFieldKernel: problem n=${p.n} does not match layout n=${n}`);
  return {
    f: new Float64Array(memory.buffer, fOffset, n),
    update(a: number, b: number): void {
      update(fOffset, sOffset + a * rowBytes, sOffset + b * rowBytes, n);
    },
  };
}
