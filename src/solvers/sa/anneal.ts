// One chain of the cardinality-constrained simulated annealer (docs: icbs.md, "The block solver").
// Pure and synchronous: runs in a worker thread or in-process, with identical results.
//
// The chain works on S = Q + Qᵀ (float32; exactly 2Q when Q is symmetric, and correct for the
// slightly asymmetric Q that float32 round-off produces) and the float64 diagonal of Q.
// Local fields f_i = Σ_j S_ij x_j (includes j = i, i.e. 2Q_ii x_i), kept in float64.
// Swapping a one at a (x_a: 1 → 0) with a zero at b (x_b: 0 → 1):
//   removing a changes E by −(f_a − Q_aa)                 (f_a counts 2Q_aa, E counts Q_aa once)
//   then adding b changes it by Q_bb + f_b − S_ab         (f_b still counts x_a = 1 via S_ab)
//   ΔE = Q_aa + Q_bb + f_b − f_a − S_ab
// and after an accepted swap f_t += S_bt − S_at for every t: two contiguous rows.

export interface ChainOptions {
  /** Inverse temperatures, in order (see schedule.ts). */
  readonly betas: Float64Array;
  /** Sweeps per temperature. */
  readonly sweeps: number;
  /** 128-bit state of the chain's xoshiro128** generator (not all zero). */
  readonly seedState: Int32Array;
  /** Finish the chain's best state with swapDescent (see there). */
  readonly descent: boolean;
}

export interface ChainResult {
  /** Best state seen (exactly k ones). */
  readonly x: Uint8Array;
  /** Its energy as tracked incrementally (the caller recomputes it exactly). */
  readonly trackedEnergy: number;
  readonly temperatures: number;
  readonly proposals: number;
  readonly accepted: number;
  /** Swaps made by the final descent. */
  readonly descentSwaps: number;
}

/** The chain's view of a problem: S = Q + Qᵀ and diag(Q). */
export interface SymmetricQubo {
  readonly n: number;
  /** Q + Qᵀ, n × n row-major float32 (may live in a SharedArrayBuffer). */
  readonly S: Float32Array<ArrayBufferLike>;
  /** Q_ii in float64. */
  readonly diag: Float64Array;
}

/** S = Q + Qᵀ (into `out`, e.g. a shared buffer) and diag(Q). */
export function symmetricQubo(
  Q: Float32Array<ArrayBufferLike>,
  n: number,
  out: Float32Array<ArrayBufferLike> = new Float32Array(n * n),
): SymmetricQubo {
  for (let i = 0; i < n; i++) {
    for (let j = i; j < n; j++) {
      const v = (Q[i * n + j] as number) + (Q[j * n + i] as number);
      out[i * n + j] = v;
      out[j * n + i] = v;
    }
  }
  const diag = new Float64Array(n);
  for (let i = 0; i < n; i++) diag[i] = Q[i * n + i] as number;
  return { n, S: out, diag };
}

/** ΔE of swapping the one at `a` with the zero at `b`, from the fields (exported for tests). */
export function swapDelta(p: SymmetricQubo, f: Float64Array, a: number, b: number): number {
  return (
    (p.diag[a] as number) +
    (p.diag[b] as number) +
    (f[b] as number) -
    (f[a] as number) -
    (p.S[a * p.n + b] as number)
  );
}

/** f = S x in float64 (into `f` when given, e.g. a view on WebAssembly memory). */
export function localFields(
  p: SymmetricQubo,
  x: Uint8Array<ArrayBufferLike>,
  f: Float64Array<ArrayBufferLike> = new Float64Array(p.n),
): Float64Array<ArrayBufferLike> {
  const { n, S } = p;
  f.fill(0);
  for (let j = 0; j < n; j++) {
    if (x[j] === 0) continue;
    const row = j * n;
    for (let t = 0; t < n; t++) f[t] = (f[t] as number) + (S[row + t] as number);
  }
  return f;
}

const TWO_POW_32 = 4294967296;

/**
 * The O(n) part of an accepted swap: f_t += S_bt − S_at for all t. The plain loop below is the
 * reference; wasm-kernel.ts provides a bit-identical WebAssembly SIMD version.
 */
export interface FieldKernel {
  /** The fields, n float64 (the kernel writes into this array). */
  readonly f: Float64Array;
  /** Applies the swap (one at a → 0, zero at b → 1) to f. */
  update(a: number, b: number): void;
}

/** The plain JavaScript field kernel. */
export function jsFieldKernel(p: SymmetricQubo, f = new Float64Array(p.n)): FieldKernel {
  const { n, S } = p;
  return {
    f,
    update(a: number, b: number): void {
      const rowA = a * n;
      const rowB = b * n;
      for (let u = 0; u < n; u++) {
        f[u] = (f[u] as number) + ((S[rowB + u] as number) - (S[rowA + u] as number));
      }
    },
  };
}

/** xᵀQx from the fields: Σ_i x_i (Q_ii + ½(f_i − 2Q_ii)) (the chains' starting energy). */
export function chainEnergy(
  f: Float64Array<ArrayBufferLike>,
  diag: Float64Array,
  x: Uint8Array<ArrayBufferLike>,
  n: number,
): number {
  let energy = 0;
  for (let i = 0; i < n; i++) {
    if (x[i] === 1) {
      energy += 0.5 * ((f[i] as number) - 2 * (diag[i] as number)) + (diag[i] as number);
    }
  }
  return energy;
}

/**
 * Runs one chain from `initial` (not modified). This is the reference implementation; the
 * workers run the bit-identical WebAssembly version (wasm/anneal.wat via wasm-kernel.ts). It is
 * not called at run time: it is kept, deliberately close to WasmChain.run, as the independent
 * JS version test/solvers/sa-kernel.test.ts checks the kernel against.
 */
export function annealChain(
  p: SymmetricQubo,
  initial: Uint8Array,
  opts: ChainOptions,
  kernel: FieldKernel = jsFieldKernel(p),
): ChainResult {
  const { n, S, diag } = p;
  const x = Uint8Array.from(initial);
  let k = 0;
  for (let i = 0; i < n; i++) k += x[i] as number;
  const nz = n - k;
  const best = Uint8Array.from(x);
  const f = localFields(p, x, kernel.f);

  // ones / zeros index lists and each variable's position in its list: O(1) random partner.
  const ones = new Int32Array(Math.max(k, 1));
  const zeros = new Int32Array(Math.max(nz, 1));
  const pos = new Int32Array(n);
  for (let i = 0, o = 0, z = 0; i < n; i++) {
    if (x[i] === 1) {
      ones[o] = i;
      pos[i] = o++;
    } else {
      zeros[z] = i;
      pos[i] = z++;
    }
  }

  let energy = chainEnergy(f, diag, x, n);
  // The best state is tracked lazily: `atBest` says the current state is the best so far, and
  // it is copied into `best` only when the chain is about to leave it without improving.
  let bestEnergy = energy;
  let atBest = true;

  // xoshiro128** state, kept in locals for the hot loop.
  let s0 = opts.seedState[0] as number;
  let s1 = opts.seedState[1] as number;
  let s2 = opts.seedState[2] as number;
  let s3 = opts.seedState[3] as number;

  let proposals = 0;
  let accepted = 0;
  let temperatures = 0;
  const { betas, sweeps } = opts;
  if (k === 0 || nz === 0) {
    return {
      x: best,
      trackedEnergy: energy,
      temperatures: 0,
      proposals: 0,
      accepted: 0,
      descentSwaps: 0,
    };
  }

  for (let bi = 0; bi < betas.length; bi++) {
    const beta = betas[bi] as number;
    temperatures++;
    let changed = 0;
    for (let sw = 0; sw < sweeps; sw++) {
      for (let i = 0; i < n; i++) {
        // r = next uint32 (xoshiro128**)
        let r = Math.imul(s1, 5);
        r = Math.imul((r << 7) | (r >>> 25), 9) >>> 0;
        let t = s1 << 9;
        s2 ^= s0;
        s3 ^= s1;
        s1 ^= s2;
        s0 ^= s3;
        s2 ^= t;
        s3 = (s3 << 11) | (s3 >>> 21);

        let a: number;
        let b: number;
        if (x[i] === 1) {
          a = i;
          b = zeros[Math.floor((r / TWO_POW_32) * nz)] as number;
        } else {
          b = i;
          a = ones[Math.floor((r / TWO_POW_32) * k)] as number;
        }
        const dE =
          (diag[a] as number) +
          (diag[b] as number) +
          (f[b] as number) -
          (f[a] as number) -
          (S[a * n + b] as number);
        if (dE > 0) {
          r = Math.imul(s1, 5);
          r = Math.imul((r << 7) | (r >>> 25), 9) >>> 0;
          t = s1 << 9;
          s2 ^= s0;
          s3 ^= s1;
          s1 ^= s2;
          s0 ^= s3;
          s2 ^= t;
          s3 = (s3 << 11) | (s3 >>> 21);
          // u = r / 2^32 is accepted iff u < exp(−βΔE). When βΔE > 23, exp(−βΔE) < 2^−33, so
          // only r = 0 passes: the same decision without calling Math.exp.
          const bdE = beta * dE;
          if (bdE > 23 ? r !== 0 : r / TWO_POW_32 >= Math.exp(-bdE)) continue;
        }
        // Accept: leave a best state only after saving it.
        if (atBest && dE >= 0) {
          best.set(x);
          atBest = false;
        }
        accepted++;
        if (dE !== 0) changed++;
        energy += dE;
        if (energy < bestEnergy) {
          bestEnergy = energy;
          atBest = true;
        }
        x[a] = 0;
        x[b] = 1;
        const pa = pos[a] as number;
        const pb = pos[b] as number;
        ones[pa] = b;
        pos[b] = pa;
        zeros[pb] = a;
        pos[a] = pb;
        kernel.update(a, b);
      }
      proposals += n;
    }
    if (changed === 0) break;
  }
  if (atBest) best.set(x);
  let descentSwaps = 0;
  if (opts.descent) {
    const d = swapDescent(p, best, kernel);
    descentSwaps = d.swaps;
    bestEnergy += d.deltaE;
  }
  return { x: best, trackedEnergy: bestEnergy, temperatures, proposals, accepted, descentSwaps };
}

/**
 * Local descent over swaps, to a state that no single swap (one at a, zero at b) improves.
 * Passes over the variables in index order: for each one a, find the zero b whose swap lowers
 * the energy most (ties: lowest b) and make that swap if it lowers the energy; stop after a pass
 * without a swap. (A full steepest descent would scan all k·(n−k) pairs per swap; this needs a
 * couple of such scans in all.) An annealing chain stops once a whole sweep of n random proposals
 * accepts nothing, which usually happens before such a local minimum is reached (a sweep samples
 * n of the k·(n−k) swaps); this finishes the job. Modifies `x`; returns the number of swaps and
 * their summed energy change.
 */
export function swapDescent(
  p: SymmetricQubo,
  x: Uint8Array,
  kernel: FieldKernel,
): { swaps: number; deltaE: number } {
  const { n, S, diag } = p;
  const f = localFields(p, x, kernel.f);
  let swaps = 0;
  let deltaE = 0;
  const zeros = new Int32Array(n);
  let nz = 0;
  for (let i = 0; i < n; i++) if (x[i] === 0) zeros[nz++] = i;
  if (nz === 0 || nz === n) return { swaps, deltaE };
  for (let changed = true; changed;) {
    changed = false;
    for (let a = 0; a < n; a++) {
      if (x[a] !== 1) continue;
      const row = a * n;
      const base = (diag[a] as number) - (f[a] as number);
      let best = 0;
      let bestZ = -1;
      for (let zi = 0; zi < nz; zi++) {
        const b = zeros[zi] as number;
        const dE = base + (diag[b] as number) + (f[b] as number) - (S[row + b] as number);
        if (dE < best || (dE === best && bestZ >= 0 && b < (zeros[bestZ] as number))) {
          best = dE;
          bestZ = zi;
        }
      }
      if (bestZ < 0) continue;
      const b = zeros[bestZ] as number;
      // Only a decrease larger than the round-off of its terms counts: no cycling between
      // states of equal energy.
      const scale =
        Math.abs(f[a] as number) +
        Math.abs(f[b] as number) +
        Math.abs(diag[a] as number) +
        Math.abs(diag[b] as number) +
        Math.abs(S[row + b] as number);
      if (best > -1e-12 * (1 + scale)) continue;
      x[a] = 0;
      x[b] = 1;
      zeros[bestZ] = a;
      kernel.update(a, b);
      swaps++;
      deltaE += best;
      changed = true;
    }
  }
  return { swaps, deltaE };
}
