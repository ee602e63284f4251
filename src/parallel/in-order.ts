// Items 0…n−1 posted to the workers with at most `window` in flight and their results taken in
// item order: how calibration batches and training micro-batches go round the workers. Only
// `window` results are ever held, and whatever `take` adds up is added in the single-thread order.
/**
 * Posts item i (post(i) sends it to its worker) as soon as item i − window has been taken, and
 * hands each result to `take` in order. When a post or a take fails, the items still running end
 * unseen and the error is thrown.
 */
export async function inOrderOverWorkers<T>(
  count: number,
  window: number,
  post: (item: number) => Promise<T>,
  take: (result: T, item: number) => void,
): Promise<void> {
  const inFlight = new Map<number, Promise<T>>();
  const width = Math.max(1, window);
  try {
    for (let i = 0; i < Math.min(width, count); i++) inFlight.set(i, post(i));
    for (let i = 0; i < count; i++) {
      const r = await (inFlight.get(i) as Promise<T>);
      inFlight.delete(i);
      if (i + width < count) inFlight.set(i + width, post(i + width));
      take(r, i);
    }
  } finally {
    for (const p of inFlight.values()) p.catch(() => undefined);
  }
}
