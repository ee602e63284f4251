// CPU time of this process's threads from /proc/self/task/*/stat (Linux): the main thread apart
// from the others (tfjs's pthread workers, libuv's pool, V8's helpers). Whether the pthreads
// worked during an op does not depend on how loaded the machine is, unlike the wall time.
import { readFileSync, readdirSync } from 'node:fs';

export interface ThreadTicks {
  readonly main: number;
  readonly others: number;
}

/** utime + stime of every thread, in clock ticks; undefined where /proc is missing. */
export function threadTicks(): ThreadTicks | undefined {
  try {
    let main = 0;
    let others = 0;
    for (const tid of readdirSync('/proc/self/task')) {
      const stat = readFileSync(`/proc/self/task/${tid}/stat`, 'utf8');
      // Fields after the parenthesised name; utime and stime are fields 14 and 15.
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      const ticks = Number(fields[11]) + Number(fields[12]);
      if (Number(tid) === process.pid) main += ticks;
      else others += ticks;
    }
    return { main, others };
  } catch {
    return undefined;
  }
}

/** Share of the CPU time between two readings spent outside the main thread (0…1). */
export function otherThreadsShare(a: ThreadTicks | undefined, b: ThreadTicks | undefined): number {
  if (a === undefined || b === undefined) return NaN;
  const main = b.main - a.main;
  const others = b.others - a.others;
  return main + others > 0 ? others / (main + others) : 0;
}
