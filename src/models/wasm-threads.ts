// Loads tfjs-backend-wasm's threaded SIMD build (tfjs-backend-wasm-threaded-simd.wasm) in Node.
// tfjs disables it in Node and, forced on, it fails in three places, which this file works around
// for the duration of the backend's initialisation only (every patch is undone afterwards):
//
// 1. The emscripten pthread pool starts `new Worker(URL.createObjectURL(blob))` with the worker
//    script in a Blob, and Node's Worker rejects blob: URLs (ERR_WORKER_PATH). We record the text
//    of the Blobs tfjs builds (a Blob's content cannot be read synchronously in Node) and hand the
//    pool a real file with the same script instead.
// 2. Each worker loads the module factory from `mainScriptUrlOrBlob`, another Blob, through
//    importScripts = fs.readFileSync. The worker file we write starts with a prelude that maps
//    that Blob to the factory written to a file, and defines the bundle-scope names the factory's
//    source refers to (require$$0… and commonjsGlobal of tf-backend-wasm.node.js).
// 3. tfjs caps the XNNPACK thread pool at emscripten_num_logical_cores() / 2 (a hyper-threading
//    guess; os.cpus().length in Node), so on 2 cores it never uses more than one. We decide the
//    count ourselves, so os.cpus() reports 2 × threads while the module starts.
//
// Afterwards the pthread workers are unref'ed: they wait forever for work and would otherwise
// keep the process alive. The files are content-addressed in the temp directory, so every
// process of one installation shares them.
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, renameSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { getThreadsCount, setThreadsCount } from '@tensorflow/tfjs-backend-wasm';
import { ErrorCode, ScalpelError } from '../errors.js';

/** How tfjs's init() starts the source of the threaded module factory it puts in a Blob. */
const factoryPrefix = 'var WasmBackendModuleThreadedSimd = ';
/** How the emscripten pthread worker script starts. */
const workerPrefix = '"use strict";var Module={};var ENVIRONMENT_IS_NODE=';

function filesDir(): string {
  const uid = typeof process.getuid === 'function' ? String(process.getuid()) : 'user';
  return join(os.tmpdir(), `scalpel-wasm-threads-${uid}`);
}

/** Write `text` once under a name derived from its hash; atomic, so concurrent processes agree. */
function writeContentAddressed(stem: string, text: string): string {
  const dir = filesDir();
  const hash = createHash('sha256').update(text).digest('hex').slice(0, 20);
  const file = join(dir, `${stem}-${hash}.cjs`);
  if (existsSync(file)) return file;
  try {
    mkdirSync(dir, { recursive: true });
    const tmp = `${file}.${process.pid}.tmp`;
    writeFileSync(tmp, text);
    renameSync(tmp, file);
  } catch (e) {
    throw new ScalpelError(ErrorCode.Io, `cannot write the wasm thread worker script ${file}`, {
      cause: e,
      hint: 'make the temp directory writable (or set TMPDIR), or unset SCALPEL_WASM_THREADS',
    });
  }
  return file;
}

/** Prelude of the worker file: what the factory source needs in a worker's global scope. */
function workerPrelude(factoryFile: string): string {
  const f = JSON.stringify(factoryFile);
  return (
    '"use strict";' +
    'globalThis.require$$0=require("fs");globalThis.require$$1=require("path");' +
    'globalThis.require$$3=require("perf_hooks");globalThis.require$$4=require("os");' +
    `globalThis.commonjsGlobal=globalThis;globalThis._scriptDir=${f};` +
    // The only Blob a worker turns into a URL is the factory's.
    `URL.createObjectURL=()=>${f};URL.revokeObjectURL=()=>{};\n`
  );
}

interface Patches {
  restore(): void;
  /** Set once the factory Blob was seen (before the first worker starts). */
  factoryFile: string | undefined;
}

function installPatches(threads: number): Patches {
  const OriginalBlob = globalThis.Blob;
  const originalCreateObjectURL = URL.createObjectURL.bind(URL);
  // The property itself (not a bound copy), so that restore() puts back exactly what was there.
  const originalCreate = Object.getOwnPropertyDescriptor(URL, 'createObjectURL');
  const originalCpus = os.cpus;
  const texts = new WeakMap<Blob, string>();
  const patches: Patches = { factoryFile: undefined, restore: () => undefined };

  type BlobArgs = ConstructorParameters<typeof Blob>;
  class RecordingBlob extends OriginalBlob {
    constructor(...args: BlobArgs) {
      super(...args);
      const parts = args[0];
      if (parts === undefined || !parts.every((p) => typeof p === 'string')) return;
      const text = parts.join('');
      texts.set(this, text);
      if (text.startsWith(factoryPrefix))
        patches.factoryFile = writeContentAddressed('factory', text);
    }
  }
  globalThis.Blob = RecordingBlob;
  URL.createObjectURL = (obj: Blob): string => {
    const text = texts.get(obj);
    if (text === undefined || !text.startsWith(workerPrefix) || patches.factoryFile === undefined)
      return originalCreateObjectURL(obj);
    return writeContentAddressed('worker', workerPrelude(patches.factoryFile) + text);
  };
  const cpu = originalCpus()[0];
  if (cpu !== undefined) os.cpus = () => Array.from({ length: 2 * threads }, () => cpu);
  patches.restore = (): void => {
    globalThis.Blob = OriginalBlob;
    if (originalCreate !== undefined) Object.defineProperty(URL, 'createObjectURL', originalCreate);
    os.cpus = originalCpus;
  };
  return patches;
}

interface NodeWorkerLike {
  unref(): void;
}
/** The part of the emscripten module (BackendWasm.wasm) this file touches. */
interface PThreadModule {
  PThread?: { runningWorkers: NodeWorkerLike[]; unusedWorkers: NodeWorkerLike[] };
}

/** Let the process exit although pthread workers exist (they idle in Atomics.wait forever). */
function unrefWorkers(): void {
  const backend = tf.backend() as unknown as { wasm?: PThreadModule };
  const pool = backend.wasm?.PThread;
  if (pool === undefined) return;
  for (const w of [...pool.runningWorkers, ...pool.unusedWorkers]) w.unref();
}

/**
 * Make `tf.setBackend('wasm')` start the threaded SIMD build with `threads` XNNPACK threads
 * (>= 2; one thread is the plain SIMD build). Must run before the wasm backend is first
 * initialised. Resolves to the thread count XNNPACK reports (tfjs caps it at 8), or false when
 * tfjs could not initialise the backend.
 */
export async function setThreadedWasmBackend(threads: number): Promise<number | false> {
  tf.env().set('WASM_HAS_MULTITHREAD_SUPPORT', true);
  setThreadsCount(threads);
  const patches = installPatches(threads);
  let ok: boolean;
  try {
    ok = await tf.setBackend('wasm');
  } finally {
    patches.restore();
  }
  if (!ok) return false;
  unrefWorkers();
  return getThreadsCount();
}
