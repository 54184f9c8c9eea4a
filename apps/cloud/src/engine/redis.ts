import { Redis } from 'ioredis';
import type { StreamEngine, Unsubscribe, WindowCount } from './engine';

/** Redis-backed engine: counters are shared by every cloud instance on the same Redis. */
export class RedisEngine implements StreamEngine {
  readonly kind = 'redis' as const;

  /** Subscriptions need a connection of their own; made on first use. */
  private subscriber: Redis | undefined;
  private readonly handlers = new Map<string, Set<(message: string) => void>>();

  private constructor(
    private readonly redis: Redis,
    readonly prefix: string,
  ) {}

  static async connect(url: string, options: { prefix?: string } = {}): Promise<RedisEngine> {
    const redis = new Redis(url, {
      lazyConnect: true,
      connectTimeout: 5000,
      maxRetriesPerRequest: 2,
      // Keep retrying in the background; /healthz reports the outage meanwhile.
      retryStrategy: (times) => Math.min(times * 200, 5000),
    });
    // ioredis re-emits connection errors as events; without a listener they would crash the process.
    redis.on('error', () => {});
    try {
      await redis.connect();
    } catch (err) {
      redis.disconnect();
      throw err;
    }
    return new RedisEngine(redis, options.prefix ?? 'canopy:');
  }

  async ping(): Promise<void> {
    await this.redis.ping();
  }

  async hit(key: string, windowMs: number): Promise<WindowCount> {
    const k = this.prefix + key;
    const result = await this.redis.multi().incr(k).pexpire(k, windowMs, 'NX').pttl(k).exec();
    if (!result) throw new Error('redis transaction aborted');
    const [[incrErr, count], , [ttlErr, ttl]] = result as [
      [Error | null, number],
      unknown,
      [Error | null, number],
    ];
    if (incrErr) throw incrErr;
    if (ttlErr) throw ttlErr;
    return { count, resetInMs: Math.max(ttl, 0) };
  }

  async peek(key: string): Promise<WindowCount> {
    const k = this.prefix + key;
    const result = await this.redis.multi().get(k).pttl(k).exec();
    if (!result) throw new Error('redis transaction aborted');
    const count = Number(result[0]?.[1] ?? 0);
    const ttl = Number(result[1]?.[1] ?? 0);
    return ttl > 0 ? { count, resetInMs: ttl } : { count: 0, resetInMs: 0 };
  }

  async forget(...keys: string[]): Promise<void> {
    if (keys.length > 0) await this.redis.del(...keys.map((k) => this.prefix + k));
  }

  async publish(channel: string, message: string): Promise<void> {
    await this.redis.publish(this.prefix + channel, message);
  }

  async subscribe(channel: string, handler: (message: string) => void): Promise<Unsubscribe> {
    const full = this.prefix + channel;
    this.subscriber ??= this.openSubscriber();
    let set = this.handlers.get(full);
    if (!set) {
      set = new Set();
      this.handlers.set(full, set);
      await this.subscriber.subscribe(full);
    }
    set.add(handler);
    return async () => {
      set.delete(handler);
      if (set.size === 0 && this.handlers.get(full) === set) {
        this.handlers.delete(full);
        await this.subscriber?.unsubscribe(full).catch(() => {});
      }
    };
  }

  /**
   * The subscriber connection. No ready check: ioredis checks readiness with INFO, which a connection that
   * has already entered subscriber mode (a SUBSCRIBE queued while connecting) may not send.
   */
  private openSubscriber(): Redis {
    const subscriber = this.redis.duplicate({ enableReadyCheck: false });
    subscriber.on('error', () => {});
    subscriber.on('message', (ch: string, message: string) => {
      for (const h of [...(this.handlers.get(ch) ?? [])]) h(message);
    });
    return subscriber;
  }

  /** Removes every key under this engine's prefix (tests use a prefix of their own). */
  async clearPrefix(): Promise<void> {
    let cursor = '0';
    do {
      const [next, keys] = await this.redis.scan(cursor, 'MATCH', `${this.prefix}*`, 'COUNT', 500);
      if (keys.length > 0) await this.redis.del(...keys);
      cursor = next;
    } while (cursor !== '0');
  }

  async close(): Promise<void> {
    this.handlers.clear();
    if (this.subscriber) await this.subscriber.quit().catch(() => this.subscriber?.disconnect());
    await this.redis.quit().catch(() => this.redis.disconnect());
  }
}
