// ioredis clients for the coordinator, the workers and `sweep --status`. BullMQ needs
// `maxRetriesPerRequest: null` on workers' connections (blocking commands must wait out a Redis
// restart rather than fail); we use it everywhere so a restart never fails a command, it only
// delays it. The first connection must succeed within a timeout (a wrong --redis is reported at
// once); after that ioredis reconnects forever with a capped backoff.
import { Redis } from 'ioredis';
import { ErrorCode, ScalpelError } from '../errors.js';

const DEFAULT_CONNECT_TIMEOUT_MS = 10_000;
/** Longest pause between reconnection attempts. */
const MAX_BACKOFF_MS = 2_000;

/** The URL without its password (for messages and logs). */
export function redactedUrl(url: string): string {
  try {
    const u = new URL(url);
    if (u.password !== '') u.password = '***';
    return u.toString();
  } catch {
    return url;
  }
}

/** Check `--redis` before anything connects: a redis:// or rediss:// URL with a host. */
export function checkRedisUrl(url: string | undefined, flag = '--redis'): string {
  const example = 'redis://localhost:6379';
  if (url === undefined || url.trim() === '') {
    throw new ScalpelError(ErrorCode.Usage, `${flag} is required`, {
      hint: `pass the URL of the Redis server the workers use, e.g. ${flag} ${example}`,
    });
  }
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new ScalpelError(ErrorCode.Usage, `${flag} '${url}' is not a URL`, {
      hint: `write it as redis://[user:password@]host[:port][/db], e.g. ${example}`,
    });
  }
  if ((parsed.protocol !== 'redis:' && parsed.protocol !== 'rediss:') || parsed.hostname === '') {
    throw new ScalpelError(
      ErrorCode.Usage,
      `${flag} '${redactedUrl(url)}' is not a redis:// or rediss:// URL with a host`,
      { hint: `e.g. ${flag} ${example}` },
    );
  }
  return url;
}

function connectTimeoutMs(env: NodeJS.ProcessEnv = process.env): number {
  const v = Number(env['SCALPEL_REDIS_CONNECT_TIMEOUT_MS']);
  return Number.isFinite(v) && v > 0 ? v : DEFAULT_CONNECT_TIMEOUT_MS;
}

/** The clients one process opened, so shutdown can quit them all. */
export class RedisClients {
  private readonly clients: Redis[] = [];
  readonly url: string;

  constructor(url: string) {
    this.url = checkRedisUrl(url);
  }

  /** A new client, connecting in the background; `role` names it in CLIENT LIST. */
  create(role: string): Redis {
    const client = new Redis(this.url, {
      maxRetriesPerRequest: null,
      connectionName: `scalpel-${role}-${process.pid}`,
      retryStrategy: (times: number) => Math.min(MAX_BACKOFF_MS, 100 * 2 ** Math.min(times, 5)),
    });
    // ioredis emits 'error' on every failed reconnection attempt; an unhandled one would crash
    // the process. Readiness is checked in `ready`, outages are waited out.
    client.on('error', () => {});
    this.clients.push(client);
    return client;
  }

  /** Resolve once `client` is connected; a clear error if that takes longer than the timeout. */
  async ready(client: Redis): Promise<void> {
    if (client.status === 'ready') return;
    const timeoutMs = connectTimeoutMs();
    let lastError = '';
    const onError = (e: Error): void => {
      lastError = e.message;
    };
    client.on('error', onError);
    try {
      await new Promise<void>((resolve, reject) => {
        const timer = setTimeout(() => {
          client.off('ready', onReady);
          reject(
            new ScalpelError(
              ErrorCode.Io,
              `cannot reach Redis at ${redactedUrl(this.url)} (--redis)${lastError !== '' ? `: ${lastError}` : ''}`,
              {
                hint: 'is redis-server running and reachable from this machine? check the host, port and password in --redis',
              },
            ),
          );
        }, timeoutMs);
        const onReady = (): void => {
          clearTimeout(timer);
          resolve();
        };
        client.once('ready', onReady);
      });
    } finally {
      client.off('error', onError);
    }
  }

  /** Quit every client (disconnect those that cannot quit, e.g. while Redis is down). */
  async closeAll(): Promise<void> {
    await Promise.all(
      this.clients.map(async (c) => {
        if (c.status === 'end') return;
        try {
          await Promise.race([c.quit(), new Promise((res) => setTimeout(res, 1000).unref())]);
        } catch {
          // already closed
        }
        c.disconnect();
      }),
    );
    this.clients.length = 0;
  }
}
