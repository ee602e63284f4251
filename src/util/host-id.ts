// Which machine this process runs on, as recorded in cache leases and sweep state: a process id
// means something only on its own host. SCALPEL_HOST_ID overrides the hostname (containers that
// share one, tests that play several machines on one).
import { hostname } from 'node:os';

export function hostId(env: NodeJS.ProcessEnv = process.env): string {
  const fromEnv = env['SCALPEL_HOST_ID'];
  return fromEnv !== undefined && fromEnv.trim() !== '' ? fromEnv.trim() : hostname();
}
