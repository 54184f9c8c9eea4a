import { randomUUID } from 'node:crypto';
import type { TaskUpdate } from '@canopy/protocol';
import pino from 'pino';
import { describe, expect, it } from 'vitest';
import { CloudRequestError } from './http';
import { TestClock } from './testing/test-clock';
import { UpdateQueue } from './updates';

type Sent = { via: 'ws' | 'http'; update: TaskUpdate };

/** `factor`: how much faster than real time the queue's clock runs (backoff, ack timeouts). */
function makeQueue(options: {
  wsReady: boolean;
  post?: (update: TaskUpdate) => Promise<void>;
  factor?: number;
}) {
  const sent: Sent[] = [];
  const queue = new UpdateQueue({
    clock: new TestClock(options.factor ?? 1000),
    random: () => 0.5,
    log: pino({ level: 'silent' }),
    ackTimeoutMs: 15_000,
    transport: {
      wsReady: () => options.wsReady,
      sendFrame: (update) => {
        sent.push({ via: 'ws', update });
        return true;
      },
      post: async (update) => {
        sent.push({ via: 'http', update });
        await options.post?.(update);
      },
    },
  });
  return { queue, sent };
}

describe('UpdateQueue', () => {
  it('sends the next update only after the previous one was acknowledged', async () => {
    const { queue, sent } = makeQueue({ wsReady: true, factor: 1 });
    const id = randomUUID();
    const running = queue.push({ task_id: id, status: 'running' });
    const done = queue.push({ task_id: id, status: 'done' });
    await new Promise((resolve) => setTimeout(resolve, 5));
    expect(sent.map((s) => s.update.status)).toEqual(['running']);
    queue.acknowledge(id, 'running');
    await running;
    await new Promise((resolve) => setTimeout(resolve, 5));
    expect(sent.map((s) => s.update.status)).toEqual(['running', 'done']);
    queue.acknowledge(id, 'running'); // a late duplicate ack does not settle 'done'
    expect(queue.length).toBe(1);
    queue.acknowledge(id, 'done');
    await done;
    expect(queue.length).toBe(0);
  });

  it('settles a stale update when the cloud answers with the final status of its task', async () => {
    const { queue } = makeQueue({ wsReady: true, factor: 1 });
    const id = randomUUID();
    const running = queue.push({ task_id: id, status: 'running' });
    await new Promise((resolve) => setTimeout(resolve, 5));
    queue.acknowledge(id, 'timeout');
    await expect(running).resolves.toBeUndefined();
  });

  it('falls back to HTTP when the socket swallows an update without an ack', async () => {
    const { queue, sent } = makeQueue({ wsReady: true });
    await queue.push({ task_id: randomUUID(), status: 'done' });
    expect(sent.map((s) => s.via)).toEqual(['ws', 'http']);
  });

  it('rejects an update the cloud refuses for good and goes on with the next', async () => {
    const refused = randomUUID();
    const { queue, sent } = makeQueue({
      wsReady: false,
      post: async (update) => {
        if (update.task_id === refused) throw new CloudRequestError('HTTP 404', 404, 'NOT_FOUND');
      },
    });
    const first = queue.push({ task_id: refused, status: 'done' });
    const second = queue.push({ task_id: randomUUID(), status: 'done' });
    await expect(first).rejects.toMatchObject({ status: 404, code: 'NOT_FOUND' });
    await expect(second).resolves.toBeUndefined();
    expect(sent).toHaveLength(2);
  });

  it('retries an update while the cloud is unreachable', async () => {
    let failures = 2;
    const { queue, sent } = makeQueue({
      wsReady: false,
      post: async () => {
        if (failures-- > 0) throw new CloudRequestError('connect ECONNREFUSED', null, null);
      },
    });
    await queue.push({ task_id: randomUUID(), status: 'error', error: 'boom' });
    expect(sent).toHaveLength(3);
  });

  it('rejects an invalid update at once', async () => {
    const { queue, sent } = makeQueue({ wsReady: true });
    await expect(queue.push({ task_id: 'not-a-uuid', status: 'done' })).rejects.toThrow(
      'invalid task update',
    );
    expect(sent).toHaveLength(0);
  });

  it('rejects everything queued when closed', async () => {
    const { queue } = makeQueue({ wsReady: true });
    const pending = queue.push({ task_id: randomUUID(), status: 'done' });
    queue.close(new Error('stopped'));
    await expect(pending).rejects.toThrow('stopped');
    await expect(queue.push({ task_id: randomUUID(), status: 'done' })).rejects.toThrow('stopped');
  });
});
