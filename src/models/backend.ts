// Picks the tfjs backend at run time: TensorFlow native (tfjs-node-gpu / tfjs-node, optional and
// usually absent because their install script downloads libtensorflow), else WebAssembly (SIMD,
// ~30x the plain JS backend here), else the plain `cpu` backend.
import { createRequire } from 'node:module';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { version_wasm as wasmVersion } from '@tensorflow/tfjs-backend-wasm';
import { version_layers as layersVersion } from '@tensorflow/tfjs-layers';
import { ErrorCode, ScalpelError } from '../errors.js';
import { installHeapSlice } from './wasm-heap-slice.js';
import { installFastTransposedMatMul } from './wasm-transposed-matmul.js';

export type BackendName = 'tensorflow' | 'wasm' | 'cpu';
export type BackendChoice = 'auto' | BackendName;

export interface BackendInfo {
  /** The backend in use. */
  name: BackendName;
  /** The native package that provided 'tensorflow', when it is the one in use. */
  nativePackage?: string;
  versions: Record<string, string>;
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

/** Initialise (once per process) and return the backend for `choice`. */
export async function initBackend(choice: BackendChoice): Promise<BackendInfo> {
  const name = resolveBackendName(choice);
  if (current && current.name === name) return current;

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

  const ok = await tf.setBackend(name);
  if (!ok) {
    if (choice === 'auto' && name === 'wasm' && (await tf.setBackend('cpu'))) {
      current = { name: 'cpu', versions: { ...versions, 'tfjs-backend-cpu': tf.version_core } };
      return current;
    }
    throw new ScalpelError(ErrorCode.Backend, `the ${name} backend failed to initialise`, {
      hint: choice === 'auto' ? 'try backend: cpu' : 'try backend: auto',
    });
  }
  await tf.ready();
  // Every stage (training, calibration, gradients) gets the fast transposed products and the
  // copy-free Slice on wasm.
  if (name === 'wasm') {
    installFastTransposedMatMul();
    installHeapSlice();
  }
  current = { name, versions, ...(nativePackage !== undefined ? { nativePackage } : {}) };
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
