// Picks the tfjs backend at run time: TensorFlow native (tfjs-node-gpu / tfjs-node, optional and
// usually absent because their install script downloads libtensorflow), else WebAssembly (SIMD,
// ~30x the plain JS backend here), else the plain `cpu` backend. On wasm, more than one thread
// means tfjs's threaded SIMD build (wasm-threads.ts); one thread is the plain SIMD build.
import { createRequire } from 'node:module';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { version_wasm as wasmVersion } from '@tensorflow/tfjs-backend-wasm';
import { version_layers as layersVersion } from '@tensorflow/tfjs-layers';
import { ErrorCode, ScalpelError } from '../errors.js';
import { installHeapSlice } from './wasm-heap-slice.js';
import { installFastTransposedMatMul } from './wasm-transposed-matmul.js';
import { setThreadedWasmBackend } from './wasm-threads.js';

export type BackendName = 'tensorflow' | 'wasm' | 'cpu';
export type BackendChoice = 'auto' | BackendName;

export interface BackendInfo {
  /** The backend in use. */
  name: BackendName;
  /** The native package that provided 'tensorflow', when it is the one in use. */
  nativePackage?: string;
  versions: Record<string, string>;
  /**
   * Threads the backend computes with: XNNPACK's pool on wasm, 1 on cpu; absent for tensorflow
   * (libtensorflow sizes its own pools).
   */
  threads?: number;
}

const nativePackages = ['@tensorflow/tfjs-node-gpu', '@tensorflow/tfjs-node'] as const;
const require = createRequire(import.meta.url);

interface NativeProbe {
  pkg: string | undefined;
  error: string | undefined;
}
let nativeProbe: NativeProbe | undefined;

/** Try to load a native TensorFlow binding once (synchronously: both packages are CommonJS). */
function probeNative(): NativeProbe {
  if (nativeProbe) return nativeProbe;
  const errors: string[] = [];
  for (const pkg of nativePackages) {
    try {
      require(pkg);
      nativeProbe = { pkg, error: undefined };
      return nativeProbe;
    } catch (e) {
      errors.push(`${pkg}: ${e instanceof Error ? e.message.split('\n')[0] : String(e)}`);
    }
  }
  nativeProbe = { pkg: undefined, error: errors.join('; ') };
  return nativeProbe;
}

/** Which backend `choice` means on this machine, without initialising it (used for hashing and plans). */
export function resolveBackendName(choice: BackendChoice): BackendName {
  if (choice !== 'auto') return choice;
  // wasm ships as a regular dependency, so auto never needs to fall back to cpu unless wasm fails
  // to initialise (handled in initBackend).
  return probeNative().pkg !== undefined ? 'tensorflow' : 'wasm';
}

let current: BackendInfo | undefined;

/**
 * Initialise (once per process) and return the backend for `choice`. `threads` (default 1, the
 * single-threaded build) applies to wasm only, and only to its first initialisation: a running
 * wasm module cannot change its thread count, so a later call gets the backend as it is (its
 * `threads` says what it uses).
 */
export async function initBackend(choice: BackendChoice, threads = 1): Promise<BackendInfo> {
  const name = resolveBackendName(choice);
  if (current && current.name === name) return current;
  if (!Number.isInteger(threads) || threads < 1)
    throw new ScalpelError(ErrorCode.Internal, `initBackend: threads must be >= 1, got ${threads}`);

  const versions: Record<string, string> = {
    'tfjs-core': tf.version_core,
    'tfjs-layers': layersVersion,
  };
  let nativePackage: string | undefined;

  if (name === 'tensorflow') {
    const probe = probeNative();
    if (probe.pkg === undefined) {
      throw new ScalpelError(ErrorCode.Backend, 'the tensorflow backend is not available', {
        hint:
          'install it in your project: `npm i @tensorflow/tfjs-node` (CPU) or `npm i @tensorflow/tfjs-node-gpu` (CUDA); their install ' +
          'script downloads libtensorflow, which needs internet access. Or use backend: wasm. ' +
          `Load errors: ${probe.error ?? ''}`,
      });
    }
    nativePackage = probe.pkg;
    versions[probe.pkg] = (require(`${probe.pkg}/package.json`) as { version: string }).version;
  } else if (name === 'wasm') {
    versions['tfjs-backend-wasm'] = wasmVersion;
  } else {
    versions['tfjs-backend-cpu'] = tf.version_core;
  }

  let threadsUsed: number | undefined = name === 'cpu' ? 1 : undefined;
  let ok: boolean;
  if (name === 'wasm' && threads > 1) {
    const got = await setThreadedWasmBackend(threads);
    ok = got !== false;
    if (got !== false) threadsUsed = got;
  } else {
    ok = await tf.setBackend(name);
    if (name === 'wasm') threadsUsed = 1;
  }
  if (!ok) {
    if (choice === 'auto' && name === 'wasm' && (await tf.setBackend('cpu'))) {
      current = {
        name: 'cpu',
        versions: { ...versions, 'tfjs-backend-cpu': tf.version_core },
        threads: 1,
      };
      return current;
    }
    throw new ScalpelError(ErrorCode.Backend, `the ${name} backend failed to initialise`, {
      hint:
        name === 'wasm' && threads > 1
          ? 'unset SCALPEL_WASM_THREADS (the single-threaded wasm build)'
          : choice === 'auto'
            ? 'try backend: cpu'
            : 'try backend: auto',
    });
  }
  await tf.ready();
  // Every stage (training, calibration, gradients) gets the fast transposed products and the
  // copy-free Slice on wasm.
  if (name === 'wasm') {
    installFastTransposedMatMul();
    installHeapSlice();
  }
  current = {
    name,
    versions,
    ...(nativePackage !== undefined ? { nativePackage } : {}),
    ...(threadsUsed !== undefined ? { threads: threadsUsed } : {}),
  };
  return current;
}

/**
 * For library entry points a user calls directly (loadSparseModel): the backend the caller set up
 * if there is one, else `auto` initialised here, so a plain script needs no setup call.
 */
export async function ensureBackend(): Promise<void> {
  // backendName is set once a backend has been chosen (by us, tf.setBackend or first use).
  if (current !== undefined || tf.engine().backendName) {
    await tf.ready();
    return;
  }
  await initBackend('auto');
}
