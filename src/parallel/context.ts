// The data-parallel setting of this process: how many worker threads the big passes split over
// (the run's `threads`, its share under --jobs: models/threads.ts), the pool (started on first
// use) and the model replicas it holds. `threads: 1` (the default) means no worker threads at all:
// every pass runs on the calling thread exactly as before.
import type { BackendName } from '../models/backend.js';
import type { PrunableModel } from '../plugin-api/model.js';
import { DataParallelPool } from './pool.js';
import { ModelReplica } from './replica.js';

let threads = 1;
let backend: BackendName = 'wasm';
let pool: DataParallelPool | undefined;

/** Replicas by model; the few most recent stay on the workers (a stage uses one model at a time). */
const replicas = new WeakMap<PrunableModel, Promise<ModelReplica | undefined>>();
const live: ModelReplica[] = [];
const liveReplicas = 3;

/** Sets this process's worker-thread count for the data-parallel passes (1 = none). */
export function configureDataParallel(count: number, backendName: BackendName): void {
  threads = Math.max(1, Math.floor(count));
  backend = backendName;
}

/** Worker threads the passes split over (1: they run on the calling thread). */
export function dataParallelThreads(): number {
  // libtensorflow runs its own thread pools; a second backend per thread would oversubscribe.
  return backend === 'tensorflow' ? 1 : threads;
}

/** The pool, when passes are to run on worker threads. */
export function dataParallelPool(): DataParallelPool | undefined {
  if (dataParallelThreads() <= 1) return undefined;
  // A pool of another size or backend (an earlier run's) is not this setting's.
  if (pool !== undefined && (pool.threads !== threads || pool.backend !== backend)) {
    void pool.close();
    pool = undefined;
  }
  pool ??= new DataParallelPool(threads, backend);
  return pool;
}

/**
 * The workers' replica of `model` (saved once), or undefined when workers cannot load its family
 * or fewer than two of its copies fit in memory (then the passes run on the calling thread).
 * A replica that fell out of the live few is made again.
 */
export async function replicaFor(
  p: DataParallelPool,
  model: PrunableModel,
): Promise<ModelReplica | undefined> {
  const known = replicas.get(model);
  const r = known !== undefined ? await known : undefined;
  if (r !== undefined && live.includes(r)) return r;
  if (known !== undefined && r === undefined) return undefined;
  const made = ModelReplica.create(model, p.threads);
  replicas.set(model, made);
  const replica = await made;
  if (replica !== undefined) {
    live.push(replica);
    while (live.length > liveReplicas) {
      const old = live.shift() as ModelReplica;
      p.forget(old);
      old.dispose();
    }
  }
  return replica;
}

/**
 * Closes the pool, removes the replicas' files and goes back to no worker threads (the end of a
 * run; the process may go on, and its next passes must not use this run's setting).
 */
export async function closeDataParallel(): Promise<void> {
  const p = pool;
  pool = undefined;
  threads = 1;
  for (const r of live.splice(0)) r.dispose();
  await p?.close();
}
