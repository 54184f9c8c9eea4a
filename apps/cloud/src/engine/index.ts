import type { StreamEngine } from './engine';
import { MemoryEngine } from './memory';
import { RedisEngine } from './redis';

export type { StreamEngine, StreamEntry, StreamReader, Unsubscribe, WindowCount } from './engine';
export { MemoryEngine } from './memory';
export { RedisEngine } from './redis';

export async function openEngine(redisUrl: string | undefined, prefix?: string): Promise<StreamEngine> {
  return redisUrl ? RedisEngine.connect(redisUrl, { prefix }) : new MemoryEngine();
}
