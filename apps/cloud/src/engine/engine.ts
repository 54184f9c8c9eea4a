/**
 * The stream engine: Redis when REDIS_URL is set, else an in-process engine with the same contract.
 * Later domains add streams and presence here; the foundation needs health and shared counters.
 */
export type WindowCount = { count: number; resetInMs: number };

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
  close(): Promise<void>;
}

export type Unsubscribe = () => Promise<void>;
