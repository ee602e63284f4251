// Whether a process id names a live process: used to tell a crashed writer's leftovers (cache
// temp directories, a sweep marked running) from those of one still at work.

/** True when process `pid` exists (signal 0 checks existence without signalling). */
export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    // EPERM: the process exists but belongs to someone else.
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}
