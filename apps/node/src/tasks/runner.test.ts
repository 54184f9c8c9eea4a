import { randomUUID } from 'node:crypto';
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { TaskMessage, TaskType, TaskUpdate } from '@canopy/protocol';
import pino from 'pino';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { DEFAULT_TASK_POLICY, type TaskPolicy } from './policy';
import { ApprovalError, approve, listPending, reject, TaskRunner, type TaskRunnerOptions } from './runner';

const posix = process.platform !== 'win32';
const log = pino({ level: 'silent' });
let base: string;
let home: string;
let workspace: string;
let runners: TaskRunner[];
let cursor = 0;

beforeEach(() => {
  base = mkdtempSync(path.join(os.tmpdir(), 'canopy-runner-'));
  home = path.join(base, 'node-home');
  workspace = path.join(base, 'workspace');
  mkdirSync(workspace);
  runners = [];
});

afterEach(async () => {
  await Promise.all(runners.map((r) => r.close()));
  rmSync(base, { recursive: true, force: true });
});

const trusted: TaskPolicy = { ...DEFAULT_TASK_POLICY, mode: 'trusted' };
const approveEach: TaskPolicy = { ...DEFAULT_TASK_POLICY, mode: 'approve_each' };

/** A runner whose reports land in `updates` (or fail while `offline` is set). */
function makeRunner(policy: TaskPolicy, overrides: Partial<TaskRunnerOptions> = {}) {
  const updates: TaskUpdate[] = [];
  const state = { offline: false };
  const runner = new TaskRunner({
    home,
    workspaceRoot: workspace,
    policy,
    log,
    userHome: base,
    pollIntervalMs: 50,
    retryBaseMs: 10,
    retryMaxMs: 50,
    report: async (u) => {
      if (state.offline) throw new Error('offline');
      updates.push(u);
    },
    ...overrides,
  });
  runners.push(runner);
  return { runner, updates, state };
}

function message(type: TaskType, payload: Record<string, unknown>, id = randomUUID()): TaskMessage {
  cursor += 1;
  return { type: 'task', cursor, task: { id, type, payload, created_at: new Date().toISOString() } };
}

const statuses = (updates: TaskUpdate[], id: string) =>
  updates.filter((u) => u.task_id === id).map((u) => u.status);
const finalOf = (updates: TaskUpdate[], id: string) =>
  updates.find((u) => u.task_id === id && ['done', 'error', 'rejected', 'timeout'].includes(u.status));

describe('TaskRunner', () => {
  it('runs an allowed task and reports running, then the result', async () => {
    const { runner, updates } = makeRunner(DEFAULT_TASK_POLICY);
    const msg = message('status_ping', {});
    await runner.handle(msg);
    await vi.waitFor(() => expect(statuses(updates, msg.task.id)).toEqual(['running', 'done']));
    expect(finalOf(updates, msg.task.id)?.result).toMatchObject({ pong: true });
    expect(runner.lastTaskAt()).toBeInstanceOf(Date);
  });

  it('keeps its state private: folders 0700, files 0600', async () => {
    const { runner } = makeRunner(approveEach);
    const msg = message('status_ping', {});
    await runner.handle(msg);
    if (!posix) return;
    for (const folder of ['tasks', 'tasks/pending', 'tasks/decisions', 'tasks/outbox', 'tasks/running']) {
      expect(statSync(path.join(home, folder)).mode & 0o777).toBe(0o700);
    }
    expect(statSync(path.join(home, 'tasks/state.json')).mode & 0o777).toBe(0o600);
    expect(statSync(path.join(home, `tasks/pending/${msg.task.id}.json`)).mode & 0o777).toBe(0o600);
  });

  it.runIf(posix)('never runs a re-delivered task twice, even in a new runner on the same home', async () => {
    const first = makeRunner(trusted);
    const msg = message('shell', { command: 'echo run >> runs.txt' });
    await Promise.all([first.runner.handle(msg), first.runner.handle(msg)]);
    await vi.waitFor(() => expect(finalOf(first.updates, msg.task.id)?.status).toBe('done'));
    await first.runner.handle(msg);
    await first.runner.close();

    const second = makeRunner(trusted);
    await second.runner.handle({ ...msg, cursor: msg.cursor + 100 });
    await new Promise((r) => setTimeout(r, 100));
    expect(readFileSync(path.join(workspace, 'runs.txt'), 'utf8')).toBe('run\n');
    expect(second.updates).toEqual([]);
    const state = JSON.parse(readFileSync(path.join(home, 'tasks/state.json'), 'utf8'));
    expect(state.handled).toContain(msg.task.id);
  });

  it('remembers only the last 10,000 task ids', async () => {
    const { runner } = makeRunner(trusted);
    await runner.start();
    await runner.close();
    const ids = Array.from({ length: 10_050 }, () => randomUUID());
    writeFileSync(path.join(home, 'tasks/state.json'), JSON.stringify({ version: 1, handled: ids }));
    const next = makeRunner(trusted);
    const msg = message('status_ping', {});
    await next.runner.handle(msg);
    const state = JSON.parse(readFileSync(path.join(home, 'tasks/state.json'), 'utf8'));
    expect(state.handled).toHaveLength(10_000);
    expect(state.handled.at(-1)).toBe(msg.task.id);
    expect(state.handled).not.toContain(ids[0]);
  });

  it.runIf(posix)('parks a task for approval and runs it once the owner approves', async () => {
    const { runner, updates } = makeRunner(DEFAULT_TASK_POLICY);
    const msg = message('shell', { command: 'echo approved > out.txt; echo ok' });
    await runner.handle(msg);
    await vi.waitFor(() => expect(statuses(updates, msg.task.id)).toEqual(['pending_approval']));
    expect(existsSync(path.join(workspace, 'out.txt'))).toBe(false);

    const pending = await listPending(home);
    expect(pending).toEqual([
      expect.objectContaining({
        id: msg.task.id,
        type: 'shell',
        summary: { command: 'echo approved > out.txt; echo ok' },
        decision: null,
      }),
    ]);
    expect(pending[0]).not.toHaveProperty('payload');

    const decided = await approve(home, msg.task.id.slice(0, 8));
    expect(decided.decision).toBe('approve');
    await vi.waitFor(() => expect(finalOf(updates, msg.task.id)?.status).toBe('done'));
    expect(statuses(updates, msg.task.id)).toEqual(['pending_approval', 'running', 'done']);
    expect(finalOf(updates, msg.task.id)?.result).toMatchObject({ exit_code: 0, stdout: 'ok\n' });
    expect(readFileSync(path.join(workspace, 'out.txt'), 'utf8')).toBe('approved\n');
    expect(await listPending(home)).toEqual([]);
    expect(readdirSync(path.join(home, 'tasks/decisions'))).toEqual([]);
  });

  it('reports a rejected task as rejected and never runs it', async () => {
    const { runner, updates } = makeRunner(DEFAULT_TASK_POLICY);
    const msg = message('file_write', { path: 'should-not-exist.txt', content: 'x'.repeat(500) });
    await runner.handle(msg);
    const [task] = await listPending(home);
    expect(task?.summary).toEqual({
      path: 'should-not-exist.txt',
      encoding: 'utf8',
      bytes: 500,
      preview: 'x'.repeat(200),
    });
    await reject(home, msg.task.id);
    await vi.waitFor(() => expect(finalOf(updates, msg.task.id)?.status).toBe('rejected'));
    expect(statuses(updates, msg.task.id)).toEqual(['pending_approval', 'rejected']);
    expect(existsSync(path.join(workspace, 'should-not-exist.txt'))).toBe(false);
    expect(await listPending(home)).toEqual([]);
  });

  it('refuses decisions on unknown, ambiguous or already decided tasks', async () => {
    const { runner } = makeRunner(approveEach);
    const a = message('status_ping', {}, 'abcdef12-0000-4000-8000-000000000001');
    const b = message('status_ping', {}, 'abcdef12-0000-4000-8000-000000000002');
    await runner.handle(a);
    await runner.handle(b);
    await expect(approve(home, randomUUID())).rejects.toMatchObject({ code: 'NOT_PENDING' });
    await expect(approve(home, 'abc')).rejects.toMatchObject({ code: 'NOT_PENDING' });
    await expect(approve(home, 'abcdef12')).rejects.toMatchObject({ code: 'AMBIGUOUS_ID' });
    await runner.close();
    await reject(home, a.task.id);
    await expect(approve(home, a.task.id)).rejects.toBeInstanceOf(ApprovalError);
    await expect(approve(home, a.task.id)).rejects.toMatchObject({ code: 'ALREADY_DECIDED' });
    expect((await listPending(home)).map((t) => [t.id, t.decision])).toEqual([
      [a.task.id, 'reject'],
      [b.task.id, null],
    ]);
  });

  it('keeps a pending task across a restart and runs it when approved later', async () => {
    const first = makeRunner(approveEach);
    const msg = message('status_ping', {});
    await first.runner.handle(msg);
    await first.runner.close();

    const second = makeRunner(approveEach);
    await second.runner.start();
    await vi.waitFor(() => expect(statuses(second.updates, msg.task.id)).toEqual(['pending_approval']));
    await approve(home, msg.task.id);
    await vi.waitFor(() => expect(finalOf(second.updates, msg.task.id)?.status).toBe('done'));
  });

  it('re-sends an unacknowledged result after a restart, and only that result', async () => {
    const first = makeRunner(trusted);
    first.state.offline = true;
    const msg = message('status_ping', {});
    await first.runner.handle(msg);
    const outboxFile = path.join(home, 'tasks/outbox', `${msg.task.id}.json`);
    await vi.waitFor(() => expect(existsSync(outboxFile)).toBe(true));
    const unsent = JSON.parse(readFileSync(outboxFile, 'utf8'));
    await first.runner.close();
    expect(first.updates).toEqual([]);

    const second = makeRunner(trusted);
    await second.runner.start();
    await vi.waitFor(() => expect(second.updates).toHaveLength(1));
    expect(second.updates[0]).toEqual(unsent);
    expect(unsent).toMatchObject({ task_id: msg.task.id, status: 'done', result: { pong: true } });
    await vi.waitFor(() => expect(existsSync(outboxFile)).toBe(false));
    await second.runner.handle(msg);
    await new Promise((r) => setTimeout(r, 100));
    expect(second.updates).toHaveLength(1);
  });

  it('reports a task the node died running as interrupted, and does not run it again', async () => {
    const { runner } = makeRunner(trusted);
    await runner.start();
    await runner.close();
    const id = randomUUID();
    writeFileSync(
      path.join(home, 'tasks/running', `${id}.json`),
      JSON.stringify({ id, type: 'shell', started_at: new Date().toISOString() }),
    );
    const next = makeRunner(trusted);
    await next.runner.start();
    await vi.waitFor(() => expect(next.updates).toHaveLength(1));
    expect(next.updates[0]).toMatchObject({ task_id: id, status: 'error', result: { code: 'INTERRUPTED' } });
    await next.runner.handle(message('shell', { command: 'echo again > again.txt' }, id));
    await new Promise((r) => setTimeout(r, 100));
    expect(existsSync(path.join(workspace, 'again.txt'))).toBe(false);
    expect(readdirSync(path.join(home, 'tasks/running'))).toEqual([]);
  });

  it('reports an invalid payload as an error without asking the owner', async () => {
    const { runner, updates } = makeRunner(approveEach);
    const msg = message('file_read', { path: 42 });
    await runner.handle(msg);
    await vi.waitFor(() => expect(finalOf(updates, msg.task.id)).toBeDefined());
    expect(finalOf(updates, msg.task.id)).toMatchObject({
      status: 'error',
      result: { code: 'INVALID_PAYLOAD' },
    });
    expect(await listPending(home)).toEqual([]);
  });

  it.runIf(posix)('stops a running command on close and records why', async () => {
    const first = makeRunner(trusted);
    first.state.offline = true;
    const msg = message('shell', { command: 'sleep 30' });
    await first.runner.handle(msg);
    await new Promise((r) => setTimeout(r, 150));
    const closing = Date.now();
    await first.runner.close();
    expect(Date.now() - closing).toBeLessThan(5_000);
    const saved = JSON.parse(readFileSync(path.join(home, 'tasks/outbox', `${msg.task.id}.json`), 'utf8'));
    expect(saved).toMatchObject({ status: 'error', error: expect.stringMatching(/node stopped/) });
  });

  it('refuses new tasks once closed, so the link does not acknowledge them', async () => {
    const { runner } = makeRunner(trusted);
    await runner.close();
    await expect(runner.handle(message('status_ping', {}))).rejects.toThrow(/closed/);
  });
});
