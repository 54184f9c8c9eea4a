import { Redis } from 'ioredis';
import type {
  NumberedAppend,
  NumberedEntry,
  StreamEngine,
  StreamEntry,
  StreamReader,
  Unsubscribe,
  WindowCount,
} from './engine';
import { nextStreamId } from './stream-id';

/** The one field of each stream entry (Redis entries are field-value lists; ours carry one opaque value). */
const FIELD = 'd';

/**
 * appendNumbered as one script: INCRBY, the epoch (kept, or started), the numbers written into the entry, XADD.
 * KEYS: counter, epoch, stream. ARGV: count, epochIfNew, data, epochOffset, seqOffset. Lua numbers are doubles:
 * exact up to 2^53, far past any frame count.
 */
const APPEND_NUMBERED = `
local count = tonumber(ARGV[1])
local last = redis.call('INCRBY', KEYS[1], count)
local epoch = redis.call('GET', KEYS[2])
local started = 0
if last == count or not epoch then
  epoch = ARGV[2]
  redis.call('SET', KEYS[2], epoch)
  started = 1
end
local data = ARGV[3]
local eo = tonumber(ARGV[4])
local so = tonumber(ARGV[5])
local first = last - count + 1
local entry = string.sub(data, 1, eo) .. struct.pack('>I4', tonumber(epoch)) .. string.sub(data, eo + 5, so)
  .. struct.pack('>I4I4', math.floor(first / 4294967296), first % 4294967296) .. string.sub(data, so + 9)
local id = redis.call('XADD', KEYS[3], '*', '${FIELD}', entry)
return {last, epoch, id, started}
`;

type ScriptedRedis = Redis & {
  canopyAppendNumbered(
    counterKey: string,
    epochKey: string,
    stream: string,
    count: number,
    epochIfNew: number,
    data: Buffer,
    epochOffset: number,
    seqOffset: number,
  ): Promise<[number, string, string, number]>;
};
type RawEntry = [Buffer, Buffer[]];

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
      // No auto-pipelining: it holds each command to the next turn of the event loop, which cost the relay's
      // one-group latency more (p50 1.2–1.5 ms against 1.0–1.2, p99 8–16 ms against 5) than it saved at 50
      // groups (897,000 against 890,000 frames/s; the relay merges messages under load instead).
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
    redis.defineCommand('canopyAppendNumbered', { numberOfKeys: 3, lua: APPEND_NUMBERED });
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

  async append(stream: string, entries: Buffer[]): Promise<string[]> {
    if (entries.length === 0) return [];
    const k = this.prefix + stream;
    // One entry (the relay's case, per message): a plain XADD, one command instead of three.
    if (entries.length === 1) return [String(await this.redis.xadd(k, '*', FIELD, entries[0] as Buffer))];
    // MULTI: pipelined, and all or nothing should the connection drop half-way.
    const tx = this.redis.multi();
    for (const data of entries) tx.xadd(k, '*', FIELD, data);
    return results(await tx.exec()).map(String);
  }

  async range(stream: string, afterId: string, count: number): Promise<StreamEntry[]> {
    if (count <= 0) return [];
    const raw = await this.redis.xrangeBuffer(
      this.prefix + stream,
      nextStreamId(afterId),
      '+',
      'COUNT',
      count,
    );
    return raw.map(toEntry);
  }

  openReader(): StreamReader {
    return new RedisReader(this.redis, this.prefix);
  }

  async trimBefore(stream: string, minId: string): Promise<number> {
    return this.redis.xtrim(this.prefix + stream, 'MINID', minId);
  }

  async trimToLength(stream: string, maxLen: number): Promise<number> {
    return this.redis.xtrim(this.prefix + stream, 'MAXLEN', Math.max(0, maxLen));
  }

  async streamInfo(stream: string) {
    const k = this.prefix + stream;
    const [length, first, last] = results(
      await this.redis
        .multi()
        .xlen(k)
        .xrange(k, '-', '+', 'COUNT', 1)
        .xrevrange(k, '+', '-', 'COUNT', 1)
        .exec(),
    ) as [number, Array<[string, string[]]>, Array<[string, string[]]>];
    return { length, firstId: first[0]?.[0] ?? null, lastId: last[0]?.[0] ?? null };
  }

  async deleteStream(stream: string): Promise<void> {
    await this.redis.del(this.prefix + stream);
  }

  async incrBy(key: string, n: number): Promise<number> {
    return this.redis.incrby(this.prefix + key, n);
  }

  async appendNumbered(stream: string, a: NumberedAppend): Promise<NumberedEntry> {
    if (a.seqOffset < a.epochOffset + 4) throw new RangeError('the number must come after the epoch');
    const [last, epoch, id, started] = await (this.redis as ScriptedRedis).canopyAppendNumbered(
      this.prefix + a.counterKey,
      this.prefix + a.epochKey,
      this.prefix + stream,
      a.count,
      a.epochIfNew,
      a.data,
      a.epochOffset,
      a.seqOffset,
    );
    return { id: String(id), last: Number(last), epoch: Number(epoch), epochStarted: started === 1 };
  }

  async getValue(key: string): Promise<string | null> {
    return this.redis.get(this.prefix + key);
  }

  async setValue(key: string, value: string, ttlMs?: number): Promise<void> {
    if (ttlMs !== undefined)
      await this.redis.set(this.prefix + key, value, 'PX', Math.max(1, Math.ceil(ttlMs)));
    else await this.redis.set(this.prefix + key, value);
  }

  async deleteValues(...keys: string[]): Promise<void> {
    if (keys.length > 0) await this.redis.del(...keys.map((k) => this.prefix + k));
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

/**
 * A blocking reader on a connection of its own (XREAD BLOCK holds its connection until it answers), made on
 * the first read. Closing disconnects it, which rejects a read in progress.
 */
class RedisReader implements StreamReader {
  private conn: Redis | undefined;
  private closed = false;

  constructor(
    private readonly parent: Redis,
    private readonly prefix: string,
  ) {}

  async read(stream: string, afterId: string, count: number, blockMs: number): Promise<StreamEntry[]> {
    if (this.closed) throw new Error('the stream reader is closed');
    if (!this.conn) {
      this.conn = this.parent.duplicate();
      this.conn.on('error', () => {});
    }
    const k = this.prefix + stream;
    const block = blockMs > 0 ? ['BLOCK', Math.ceil(blockMs)] : [];
    const reply = (await this.conn.xreadBuffer(
      'COUNT',
      Math.max(1, count),
      ...(block as ['BLOCK', number]),
      'STREAMS',
      k,
      afterId,
    )) as Array<[Buffer, RawEntry[]]> | null;
    if (this.closed) throw new Error('the stream reader is closed');
    return reply?.[0]?.[1].map(toEntry) ?? [];
  }

  async close(): Promise<void> {
    this.closed = true;
    this.conn?.disconnect();
  }
}

function toEntry([id, fields]: RawEntry): StreamEntry {
  return { id: id.toString(), data: fields[1] ?? Buffer.alloc(0) };
}

/** The replies of a MULTI, or the first error in it. */
function results(replies: Array<[Error | null, unknown]> | null): unknown[] {
  if (!replies) throw new Error('redis transaction aborted');
  return replies.map(([err, value]) => {
    if (err) throw err;
    return value;
  });
}
