/**
 * The stream engine: Redis when REDIS_URL is set, else an in-process engine with the same contract.
 * Health, shared counters, pub/sub, Redis-Streams-shaped streams (the relay's buffer, the console's ring
 * buffer) and plain values.
 */
export type WindowCount = { count: number; resetInMs: number };

export type StreamEntry = { id: string; data: Buffer };

/** A reader that may block; with Redis it owns one dedicated connection (blocking XREAD ties up a connection). */
export interface StreamReader {
  /**
   * Entries with id > afterId ('0' = from the start), at most `count`; when there are none, waits up to
   * blockMs (0 = return at once) for the first to arrive. Rejects when closed.
   */
  read(stream: string, afterId: string, count: number, blockMs: number): Promise<StreamEntry[]>;
  close(): Promise<void>;
}

export interface StreamEngine {
  readonly kind: 'redis' | 'memory';
  ping(): Promise<void>;
  /** Adds one to a counter that lives `windowMs` from its first hit; returns the new count. */
  hit(key: string, windowMs: number): Promise<WindowCount>;
  /** Reads a counter without changing it (count 0 when absent or expired). */
  peek(key: string): Promise<WindowCount>;
  /** Drops counters (as if their windows had ended). */
  forget(...keys: string[]): Promise<void>;
  /** Fire-and-forget signal to every subscriber of `channel`, in this process and (with Redis) others. */
  publish(channel: string, message: string): Promise<void>;
  /** Listens on `channel` until the returned function is called. */
  subscribe(channel: string, handler: (message: string) => void): Promise<Unsubscribe>;

  /** Appends in order (one XADD each, pipelined); returns the new ids, strictly increasing per stream, Redis format "<ms>-<seq>". */
  append(stream: string, entries: Buffer[]): Promise<string[]>;
  /** Non-blocking read: entries with id > afterId, at most count. */
  range(stream: string, afterId: string, count: number): Promise<StreamEntry[]>;
  openReader(): StreamReader;
  /** Removes entries with id < minId (XTRIM MINID); returns how many went. */
  trimBefore(stream: string, minId: string): Promise<number>;
  /** Keeps at most the newest maxLen entries (exact XTRIM MAXLEN); returns how many went. */
  trimToLength(stream: string, maxLen: number): Promise<number>;
  /** Entries held now, and the ids of the oldest and newest of them (null when there are none). */
  streamInfo(stream: string): Promise<{ length: number; firstId: string | null; lastId: string | null }>;
  deleteStream(stream: string): Promise<void>;

  /** Adds n to an integer value (absent = 0); returns the new value. */
  incrBy(key: string, n: number): Promise<number>;
  /**
   * Numbers an entry and appends it, in one step (one round trip to Redis, atomic there): see NumberedAppend.
   */
  appendNumbered(stream: string, append: NumberedAppend): Promise<NumberedEntry>;
  getValue(key: string): Promise<string | null>;
  /** Sets a value; with `ttlMs` it is gone that long after (each set starts the time again). */
  setValue(key: string, value: string, ttlMs?: number): Promise<void>;
  deleteValues(...keys: string[]): Promise<void>;
  close(): Promise<void>;
}

export type Unsubscribe = () => Promise<void>;

/**
 * An entry numbered as it is appended: `count` is added to the counter at `counterKey`; the numbering's epoch is
 * the value at `epochKey`, or `epochIfNew` (then stored) when the counter has just started (its new value is
 * `count`) or no epoch is stored. The entry appended is `data` with the epoch written over it as a u32 at
 * `epochOffset` and the first number (new value − count + 1) as a u64 at `seqOffset`, both big-endian.
 */
export type NumberedAppend = {
  counterKey: string;
  epochKey: string;
  count: number;
  epochIfNew: number;
  data: Buffer;
  epochOffset: number;
  seqOffset: number;
};
export type NumberedEntry = { id: string; last: number; epoch: number; epochStarted: boolean };

/** The entry NumberedAppend describes (both engines make it the same way). */
export function numberedData(a: NumberedAppend, epoch: number, first: number): Buffer {
  const out = Buffer.from(a.data);
  out.writeUInt32BE(epoch >>> 0, a.epochOffset);
  out.writeBigUInt64BE(BigInt(first), a.seqOffset);
  return out;
}
