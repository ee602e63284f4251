// Memory figures of a process from /proc/<pid>/status (Linux), for the memory benchmarks: the
// parent samples a child's RSS while the child is busy in synchronous code and cannot sample
// itself; VmHWM is the kernel's own peak.
import { readFileSync } from 'node:fs';

/** kB figure of a /proc/<pid>/status line, in bytes (0 once the process is gone). */
export function statusBytes(pid: number | 'self', field: 'VmRSS' | 'VmHWM'): number {
  try {
    const m = new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(
      readFileSync(`/proc/${pid}/status`, 'utf8'),
    );
    return m === null ? 0 : Number(m[1]) * 1024;
  } catch {
    return 0;
  }
}

/** Largest VmRSS of `pid` seen every `ms` until stop() (which returns it). */
export function watchRss(pid: number, ms = 50): { stop: () => number } {
  let peak = 0;
  const timer = setInterval(() => {
    peak = Math.max(peak, statusBytes(pid, 'VmRSS'));
  }, ms);
  return {
    stop: () => {
      clearInterval(timer);
      return peak;
    },
  };
}
