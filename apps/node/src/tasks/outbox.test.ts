import { randomUUID } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { TaskUpdate } from '@canopy/protocol';
import pino from 'pino';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { Outbox } from './outbox';

const log = pino({ level: 'silent' });
let folder: string;
let boxes: Outbox[];

beforeEach(() => {
  folder = path.join(mkdtempSync(path.join(os.tmpdir(), 'canopy-outbox-')), 'outbox');
  mkdirSync(folder);
  boxes = [];
});

afterEach(() => {
  for (const box of boxes) box.close();
  rmSync(path.dirname(folder), { recursive: true, force: true });
});

function outbox(report: (u: TaskUpdate) => Promise<void>) {
  const box = new Outbox({ folder, report, log, retryBaseMs: 5, retryMaxMs: 20 });
  boxes.push(box);
  return box;
}

describe('outbox', () => {
  it('retries a final update until it is acknowledged, then forgets it', async () => {
    let calls = 0;
    const report = vi.fn(async () => {
      calls += 1;
      if (calls < 3) throw new Error('offline');
    });
    const id = randomUUID();
    await outbox(report).send({ task_id: id, status: 'done', result: { ok: true } });
    expect(existsSync(path.join(folder, `${id}.json`))).toBe(true);
    await vi.waitFor(() => expect(report).toHaveBeenCalledTimes(3));
    await vi.waitFor(() => expect(existsSync(path.join(folder, `${id}.json`))).toBe(false));
  });

  it('keeps a final update on disk for the next process and sends the same update again', async () => {
    const id = randomUUID();
    const update: TaskUpdate = { task_id: id, status: 'error', error: 'boom', result: { code: 'FAILED' } };
    const first = outbox(() => Promise.reject(new Error('offline')));
    await first.send(update);
    first.close();
    const seen: TaskUpdate[] = [];
    const second = outbox(async (u) => {
      seen.push(u);
    });
    expect(await second.resume()).toEqual([id]);
    await vi.waitFor(() => expect(seen).toEqual([update]));
  });

  it('sends the updates of a task in order and drops progress superseded by the result', async () => {
    const id = randomUUID();
    const seen: string[] = [];
    let online = false;
    const box = outbox(async (u) => {
      if (!online) throw new Error('offline');
      seen.push(u.status);
    });
    await box.send({ task_id: id, status: 'running' });
    await box.send({ task_id: id, status: 'done', result: {} });
    online = true;
    await vi.waitFor(() => expect(box.size()).toBe(0));
    expect(seen).toEqual(['done']);
  });

  it('treats a report function that returns no promise as not delivered', async () => {
    const id = randomUUID();
    let link: ((u: TaskUpdate) => Promise<void>) | undefined;
    const delivered: TaskUpdate[] = [];
    const box = outbox(((u: TaskUpdate) => link?.(u)) as (u: TaskUpdate) => Promise<void>);
    await box.send({ task_id: id, status: 'done' });
    await new Promise((r) => setTimeout(r, 30));
    expect(existsSync(path.join(folder, `${id}.json`))).toBe(true);
    link = async (u) => {
      delivered.push(u);
    };
    await vi.waitFor(() => expect(delivered).toHaveLength(1));
  });

  it('ignores a second final update for the same task', async () => {
    const id = randomUUID();
    const box = outbox(() => new Promise(() => {}));
    await box.send({ task_id: id, status: 'done', result: 1 });
    await box.send({ task_id: id, status: 'error', error: 'other' });
    expect(box.hasFinal(id)).toBe(true);
    expect(box.size()).toBe(1);
  });
});
