// The WebAssembly version of the annealer (wasm/anneal.wat): the whole chain and the SIMD field
// update, bit-identical to annealChain / jsFieldKernel in anneal.ts (tested). S and every
// worker's chain state live in one shared WebAssembly.Memory created by the main thread.
import {
  chainEnergy,
  localFields,
  swapDescent,
  type ChainOptions,
  type ChainResult,
  type FieldKernel,
  type SymmetricQubo,
} from './anneal.js';
import { annealWasmBase64 } from './wasm/anneal-wasm.js';

// The tsconfig's libs (ES2022, node 20 types) do not declare WebAssembly: the few members used
// here, typed locally.
/** A WebAssembly.Memory (shared: its buffer is a SharedArrayBuffer). */
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

/** The compiled module (compiled once per thread). */
function annealModule(): WasmModule {
  compiled ??= new WA.Module(Buffer.from(annealWasmBase64, 'base64'));
  return compiled;
}

type UpdateFn = (f: number, a: number, b: number, n: number) => void;
type AnnealFn = (
  S: number,
  diag: number,
  f: number,
  x: number,
  best: number,
  ones: number,
  zeros: number,
  pos: number,
  betas: number,
  nBetas: number,
  n: number,
  k: number,
  sweeps: number,
  energy: number,
  seed: number,
  stats: number,
) => number;

function instantiate(memory: WasmMemory): { update: UpdateFn; anneal: AnnealFn } {
  const instance = new WA.Instance(annealModule(), { env: { memory, exp: Math.exp } });
  return {
    update: instance.exports['update'] as UpdateFn,
    anneal: instance.exports['anneal'] as AnnealFn,
  };
}

const align16 = (b: number): number => Math.ceil(b / 16) * 16;

/** Byte offsets inside one worker's slot. */
interface SlotLayout {
  readonly f: number;
  readonly diag: number;
  readonly x: number;
  readonly best: number;
  readonly ones: number;
  readonly zeros: number;
  readonly pos: number;
  readonly betas: number;
  readonly seed: number;
  readonly stats: number;
  readonly bytes: number;
}

function slotLayout(n: number, nBetas: number): SlotLayout {
  let o = 0;
  const take = (bytes: number): number => {
    const at = o;
    o = align16(o + bytes);
    return at;
  };
  const l = {
    f: take(8 * n),
    diag: take(8 * n),
    x: take(n),
    best: take(n),
    ones: take(4 * n),
    zeros: take(4 * n),
    pos: take(4 * n),
    betas: take(8 * nBetas),
    seed: take(16),
    stats: take(24),
  };
  return { ...l, bytes: o };
}

/**
 * Layout of a problem's shared memory: S (n² float32) at 0, then one slot of chain state per
 * worker. Every region starts on a 16-byte boundary (v128 loads).
 */
export interface SharedLayout {
  readonly n: number;
  readonly slots: number;
  readonly nBetas: number;
  readonly sOffset: number;
  readonly slotsOffset: number;
  readonly slotBytes: number;
  readonly totalBytes: number;
}

export function sharedLayout(n: number, slots: number, nBetas = 0): SharedLayout {
  const slotsOffset = align16(n * n * 4);
  const slotBytes = slotLayout(n, nBetas).bytes;
  return {
    n,
    slots,
    nBetas,
    sOffset: 0,
    slotsOffset,
    slotBytes,
    totalBytes: slotsOffset + slots * slotBytes,
  };
}

/** A shared memory large enough for `layout` (whole 64 KiB pages). */
export function createSharedMemory(layout: SharedLayout): WasmMemory {
  const pages = Math.max(1, Math.ceil(layout.totalBytes / 65536));
  return new WA.Memory({ initial: pages, maximum: pages, shared: true });
}

/** S as a view on the shared memory. */
export function sharedS(memory: WasmMemory, layout: SharedLayout): Float32Array<ArrayBufferLike> {
  return new Float32Array(memory.buffer, layout.sOffset, layout.n * layout.n);
}

/** Runs chains of one problem in one worker slot of a shared memory. */
export class WasmChainRunner {
  private readonly fns: { update: UpdateFn; anneal: AnnealFn };
  private readonly base: number;
  private readonly slot: SlotLayout;
  /** The field kernel over this slot's f (also used by the final descent). */
  readonly kernel: FieldKernel;

  constructor(
    private readonly memory: WasmMemory,
    private readonly layout: SharedLayout,
    slot: number,
    private readonly p: SymmetricQubo,
  ) {
    if (p.n !== layout.n) throw new Error(`problem n=${p.n} does not match layout n=${layout.n}`);
    if (slot >= layout.slots) throw new Error(`slot ${slot} ≥ ${layout.slots} slots`);
    this.fns = instantiate(memory);
    this.slot = slotLayout(layout.n, layout.nBetas);
    this.base = layout.slotsOffset + slot * layout.slotBytes;
    const n = layout.n;
    const fOffset = this.base + this.slot.f;
    const rowBytes = n * 4;
    const sOffset = layout.sOffset;
    const update = this.fns.update;
    this.kernel = {
      f: new Float64Array(memory.buffer, fOffset, n),
      update(a: number, b: number): void {
        update(fOffset, sOffset + a * rowBytes, sOffset + b * rowBytes, n);
      },
    };
  }

  /** Same contract and result as annealChain(p, initial, opts). */
  run(initial: Uint8Array, opts: ChainOptions): ChainResult {
    const { n } = this.layout;
    const buf = this.memory.buffer;
    const at = (off: number): number => this.base + off;
    if (opts.betas.length > this.layout.nBetas) throw new Error('more betas than the layout holds');
    const x = new Uint8Array(buf, at(this.slot.x), n);
    x.set(initial);
    let k = 0;
    for (let i = 0; i < n; i++) k += x[i] as number;
    const best = new Uint8Array(buf, at(this.slot.best), n);
    best.set(x);
    new Float64Array(buf, at(this.slot.diag), n).set(this.p.diag);
    const ones = new Int32Array(buf, at(this.slot.ones), n);
    const zeros = new Int32Array(buf, at(this.slot.zeros), n);
    const pos = new Int32Array(buf, at(this.slot.pos), n);
    for (let i = 0, o = 0, z = 0; i < n; i++) {
      if (x[i] === 1) {
        ones[o] = i;
        pos[i] = o++;
      } else {
        zeros[z] = i;
        pos[i] = z++;
      }
    }
    new Float64Array(buf, at(this.slot.betas), opts.betas.length).set(opts.betas);
    new Int32Array(buf, at(this.slot.seed), 4).set(opts.seedState);
    const f = localFields(this.p, x, this.kernel.f);
    const energy = chainEnergy(f, this.p.diag, x, n);
    if (k === 0 || k === n) {
      return {
        x: Uint8Array.from(x),
        trackedEnergy: energy,
        temperatures: 0,
        proposals: 0,
        accepted: 0,
        descentSwaps: 0,
      };
    }
    let bestEnergy = this.fns.anneal(
      this.layout.sOffset,
      at(this.slot.diag),
      at(this.slot.f),
      at(this.slot.x),
      at(this.slot.best),
      at(this.slot.ones),
      at(this.slot.zeros),
      at(this.slot.pos),
      at(this.slot.betas),
      opts.betas.length,
      n,
      k,
      opts.sweeps,
      energy,
      at(this.slot.seed),
      at(this.slot.stats),
    );
    const stats = new Float64Array(buf, at(this.slot.stats), 3);
    const result = Uint8Array.from(best);
    let descentSwaps = 0;
    if (opts.descent) {
      const d = swapDescent(this.p, result, this.kernel);
      descentSwaps = d.swaps;
      bestEnergy += d.deltaE;
    }
    return {
      x: result,
      trackedEnergy: bestEnergy,
      temperatures: stats[0] as number,
      proposals: stats[1] as number,
      accepted: stats[2] as number,
      descentSwaps,
    };
  }
}
