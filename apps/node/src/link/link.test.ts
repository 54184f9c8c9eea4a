import { randomBytes, randomUUID } from 'node:crypto';
import type { TaskMessage } from '@canopy/protocol';
import pino from 'pino';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { Link, type LinkOptions, type LinkStatus, LinkStoppedError } from './link';
import { REENROLL_REASON } from './state-machine';
import { FakeCloud } from './testing/fake-cloud';
import { TestClock } from './testing/test-clock';

/*
 * The link against a local double of the cloud (real sockets, real HTTP) with a clock 50× faster than real
 * time: 1 s of backoff takes 20 ms, the 30 s heartbeat 0.6 s.
 */

const FACTOR = 50;
const AGENT_TOKEN = `cnt_${randomBytes(24).toString('base64url')}`;
const FINGERPRINT = 'ab'.repeat(32);

let clock: TestClock;
let cloud: FakeCloud;
let logs: string[];
let links: Link[];

beforeEach(async () => {
  clock = new TestClock(FACTOR);
  cloud = await FakeCloud.start({ clock, agentToken: AGENT_TOKEN, fingerprint: FINGERPRINT });
  logs = [];
  links = [];
});

afterEach(async () => {
  await Promise.all(links.map((link) => link.stop()));
  await cloud.close();
  // No token, nor any part of one, ever reaches the log.
  const text = logs.join('');
  for (const token of [AGENT_TOKEN, ...cloud.issuedTokens]) {
    expect(text).not.toContain(token.slice(4, 14));
  }
});

function makeLink(overrides: Partial<LinkOptions> = {}) {
  const tasks: TaskMessage[] = [];
  const states: LinkStatus[] = [];
  const log = pino({ level: 'debug' }, { write: (line: string) => void logs.push(line) });
  const link = new Link({
    cloudUrl: cloud.url,
    wsUrl: cloud.wsUrl,
    agentToken: AGENT_TOKEN,
    fingerprint: FINGERPRINT,
    version: '0.1.0',
    log,
    clock,
    random: () => 0.5,
    enablePollingFallback: true,
    onTask: (message) => {
      tasks.push(message);
    },
    heartbeatState: () => ({ uptime_s: 42 }),
    ...overrides,
  });
  link.on('state', (status) => states.push(status));
  links.push(link);
  return { link, tasks, states };
}

/** Waits (real time) until `condition` holds. */
async function until(condition: () => boolean, what: string, timeoutMs = 4000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

describe('Link', () => {
  it('connects: welcome → CONNECTED, the agent token only in headers', async () => {
    const { link, states } = makeLink();
    const welcomes: string[] = [];
    link.on('welcome', (welcome) => welcomes.push(welcome.agentId));
    link.start();
    await until(() => link.status().state === 'CONNECTED', 'CONNECTED');

    expect(states.map((s) => s.state)).toEqual(['CONNECTING', 'CONNECTED']);
    expect(welcomes).toEqual([cloud.agentId]);
    expect(link.status()).toMatchObject({
      state: 'CONNECTED',
      reason: 'connected over WebSocket',
      needsReenrollment: false,
      wsConnected: true,
      reconnects: 0,
      agentId: cloud.agentId,
      agentName: 'bench-pc',
    });
    expect(link.status().tokenExpiresAt).toMatch(/^\d{4}-/);
    expect(link.status().lastConnectedAt).toMatch(/^\d{4}-/);
    expect(cloud.upgrades).toEqual([
      { method: 'GET', url: '/ws/agent', authorization: `Bearer ${AGENT_TOKEN}`, fingerprint: FINGERPRINT },
    ]);

    // The 30 s heartbeat goes out with the session token from the welcome.
    await until(() => cloud.heartbeats.length >= 1, 'a heartbeat');
    expect(cloud.heartbeats[0]).toMatchObject({ state: 'connected', uptime_s: 42, version: '0.1.0' });
    expect(cloud.heartbeats[0]?.token).toMatch(/^cns_/);
    expect(cloud.refreshes).toBe(0);
  });

  it('comes back after the server closes: RECONNECTING → CONNECTED after the 1 s backoff', async () => {
    const { link, states } = makeLink();
    link.start();
    await until(() => link.status().state === 'CONNECTED', 'CONNECTED');
    cloud.closeSockets(1001, 'server shutting down');
    await until(() => link.status().state === 'RECONNECTING', 'RECONNECTING');
    const lostAt = clock.now();
    expect(link.status().reason).toBe('connection lost: the cloud is restarting (server shutting down)');
    await until(() => link.status().state === 'CONNECTED', 'CONNECTED again');

    expect(clock.now() - lostAt).toBeGreaterThanOrEqual(950);
    expect(states.map((s) => s.state)).toEqual(['CONNECTING', 'CONNECTED', 'RECONNECTING', 'CONNECTED']);
    expect(link.status().reconnects).toBe(1);
    expect(cloud.connections).toBe(2);
    expect(logs.some((l) => l.includes('"level":40') && l.includes('reconnected'))).toBe(true);
  });

  it('falls back to polling after 5 refused upgrades, gets tasks by poll, and returns to the WebSocket', async () => {
    cloud.refuseAll = true;
    const { link, tasks } = makeLink();
    link.start();
    await until(() => link.status().state === 'POLLING', 'POLLING');
    expect(cloud.upgrades).toHaveLength(5);
    expect(link.status().reason).toContain('5 WebSocket attempts failed in a row');
    expect(link.status().lastError).toContain('HTTP 503');
    // Session token: none came by welcome, so the link fetched one with the agent token.
    await until(() => cloud.heartbeats.some((h) => h.state === 'polling'), 'a heartbeat while polling');
    expect(cloud.refreshes).toBe(1);

    const first = cloud.pushTask();
    const second = cloud.pushTask();
    await until(() => tasks.length === 2, 'two tasks by poll');
    expect(tasks.map((t) => t.cursor)).toEqual([first.cursor, second.cursor]);
    // The next poll carries cursor 2, which acknowledges both.
    await until(() => cloud.ackedCursor === 2, 'the poll to acknowledge cursor 2');
    // Without a socket, task updates go over HTTP.
    await link.sendTaskUpdate({ task_id: first.task.id, status: 'done' });
    expect(cloud.updates).toEqual([{ via: 'http', update: { task_id: first.task.id, status: 'done' } }]);

    cloud.refuseAll = false;
    await until(() => link.status().state === 'CONNECTED', 'CONNECTED by a background attempt', 6000);
    expect(link.status().reconnects).toBe(1);
    const polls = cloud.polls;
    await clock.wait(30_000);
    expect(cloud.polls).toBe(polls);
    expect(tasks).toHaveLength(2);
    expect(cloud.requests.every((r) => !r.url.includes(AGENT_TOKEN) && !r.url.includes('cns_'))).toBe(true);
  });

  it('answers a dongle request that came in a poll over HTTP', async () => {
    cloud.refuseAll = true;
    const asked: string[] = [];
    const { link } = makeLink({
      onDongleRequest: async (message) => {
        asked.push(message.device_id);
        return { ok: true, result: { op: 'pairing_start', status: 'ok', seconds: 120, pairing_nonce: null } };
      },
    });
    link.start();
    await until(() => link.status().state === 'POLLING', 'POLLING');
    const requestId = randomUUID();
    cloud.pushDongleRequest({
      type: 'dongle_request',
      request_id: requestId,
      device_id: '0011223344556677',
      request: { op: 'pairing_start' },
    });
    await until(() => cloud.dongleResponses.length === 1, 'the answer over HTTP');
    expect(asked).toEqual(['0011223344556677']);
    expect(cloud.dongleResponses[0]).toEqual({
      type: 'dongle_response',
      request_id: requestId,
      outcome: { ok: true, result: { op: 'pairing_start', status: 'ok', seconds: 120, pairing_nonce: null } },
    });
  });

  it('refreshes a 5-second session token before it expires, without a disconnect', async () => {
    cloud.sessionLifetimeMs = 5000;
    const { link } = makeLink();
    link.start();
    await until(() => link.status().state === 'CONNECTED', 'CONNECTED');
    const firstExpiry = link.status().tokenExpiresAt;
    await until(() => cloud.refreshes >= 3, 'three refreshes');
    await until(() => cloud.heartbeats.length >= 1, 'a heartbeat');

    expect(cloud.connections).toBe(1);
    expect(link.status().state).toBe('CONNECTED');
    expect(link.status().tokenExpiresAt).not.toBe(firstExpiry);
    expect(cloud.sessionRejections).toBe(0);
    const refreshAuth = cloud.requests.filter((r) => r.url === '/api/v1/agents/token/refresh');
    expect(refreshAuth.every((r) => r.authorization === `Bearer ${AGENT_TOKEN}`)).toBe(true);
  });

  it('re-authenticates over the WebSocket when the session token expires and cannot be refreshed', async () => {
    cloud.sessionLifetimeMs = 5000;
    cloud.refreshFails = true;
    const { link } = makeLink();
    link.start();
    await until(() => link.status().state === 'CONNECTED', 'CONNECTED');
    await until(() => cloud.connections === 2, 'a second connection for a fresh welcome');
    await until(() => link.status().state === 'CONNECTED', 'CONNECTED again');
    expect(link.status().needsReenrollment).toBe(false);
  });

  it('stops for good on close 4003: needs re-enrollment, no more attempts', async () => {
    const { link } = makeLink();
    link.start();
    await until(() => link.status().state === 'CONNECTED', 'CONNECTED');
    // The heartbeat sent on connecting has arrived (it is not one sent after the stop).
    await until(() => cloud.requests.some((r) => r.url.includes('/heartbeat')), 'the first heartbeat');
    cloud.revoke();
    await until(() => link.status().state === 'DISCONNECTED', 'DISCONNECTED');
    expect(link.status()).toMatchObject({
      needsReenrollment: true,
      reason: REENROLL_REASON,
      wsConnected: false,
    });

    const requests = cloud.requests.length;
    await clock.wait(40_000);
    expect(cloud.upgrades).toHaveLength(1);
    expect(cloud.requests).toHaveLength(requests);
    link.start();
    await clock.wait(5000);
    expect(cloud.upgrades).toHaveLength(1);
    await expect(link.sendTaskUpdate({ task_id: randomUUID(), status: 'done' })).rejects.toBeInstanceOf(
      LinkStoppedError,
    );
    expect(logs.some((l) => l.includes('"level":50') && l.includes('re-enrollment'))).toBe(true);
  });

  it('stops for good when the upgrade is refused with 401 AGENT_TOKEN_INVALID', async () => {
    cloud.revoked = true;
    const { link } = makeLink();
    link.start();
    await until(() => link.status().needsReenrollment, 'needsReenrollment');
    expect(link.status().state).toBe('DISCONNECTED');
    expect(link.status().lastError).toContain('AGENT_TOKEN_INVALID');
    await clock.wait(20_000);
    expect(cloud.upgrades).toHaveLength(1);
  });

  it('stops for good when a refresh answers 401 AGENT_TOKEN_INVALID', async () => {
    cloud.sessionLifetimeMs = 5000;
    const { link } = makeLink();
    link.start();
    await until(() => link.status().state === 'CONNECTED', 'CONNECTED');
    cloud.revoked = true;
    await until(() => link.status().needsReenrollment, 'needsReenrollment');
    expect(link.status()).toMatchObject({ state: 'DISCONNECTED', wsConnected: false });
    await until(() => cloud.openSockets === 0, 'the socket closed');
  });

  it('reconnects within about a second of a crashed cloud returning, not at the next backoff step', async () => {
    const { link } = makeLink();
    link.start();
    await until(() => link.status().state === 'CONNECTED', 'CONNECTED');
    cloud.crash();
    await until(() => link.status().state === 'RECONNECTING', 'RECONNECTING');
    // Down for 12 s of link time: attempts at ~1, 3 and 7 s fail; the backoff would try next at ~15 s.
    await new Promise((r) => setTimeout(r, 12_000 / FACTOR));
    cloud.down = false;
    const back = clock.now();
    await until(() => link.status().state === 'CONNECTED', 'CONNECTED again');
    expect(clock.now() - back).toBeLessThan(2000);
  });

  it('detects a server that stops answering pings and reconnects', async () => {
    const { link, states } = makeLink({ pingIntervalMs: 10_000, pongTimeoutMs: 5000 });
    link.start();
    await until(() => cloud.pingsAnswered >= 2, 'two answered pings');
    expect(link.status().state).toBe('CONNECTED');
    cloud.answerPings = false;
    await until(() => link.status().state === 'RECONNECTING', 'RECONNECTING');
    expect(link.status().reason).toContain('stale');
    cloud.answerPings = true;
    await until(() => link.status().state === 'CONNECTED', 'CONNECTED again');
    expect(cloud.connections).toBe(2);
    expect(states.map((s) => s.state)).toEqual(['CONNECTING', 'CONNECTED', 'RECONNECTING', 'CONNECTED']);
  });

  it('retries a task update across a reconnect until it is acknowledged, then sends the next in order', async () => {
    const { link } = makeLink();
    link.start();
    await until(() => link.status().state === 'CONNECTED', 'CONNECTED');
    cloud.updateMode = 'swallow-and-close';
    const taskId = randomUUID();
    const settled: string[] = [];
    const running = link
      .sendTaskUpdate({ task_id: taskId, status: 'running' })
      .then(() => settled.push('running'));
    const done = link
      .sendTaskUpdate({ task_id: taskId, status: 'done', result: { ok: true } })
      .then(() => settled.push('done'));
    await Promise.all([running, done]);

    expect(settled).toEqual(['running', 'done']);
    const statuses = cloud.updates.map((u) => u.update.status);
    expect(statuses).toEqual(['running', 'running', 'done']);
    expect(cloud.updates[0]?.via).toBe('ws');
    await clock.wait(20_000);
    expect(cloud.updates).toHaveLength(3);
  });

  it('delivers WebSocket tasks once each and acknowledges them by cursor', async () => {
    const { link, tasks } = makeLink();
    link.start();
    await until(() => link.status().state === 'CONNECTED', 'CONNECTED');
    cloud.pushTask();
    cloud.pushTask();
    await until(() => cloud.ackedCursor === 2, 'ack of cursor 2');
    cloud.resendAll();
    await until(() => cloud.frames.filter((f) => f.type === 'ack').length >= 4, 'acks of the resent tasks');
    expect(tasks.map((t) => t.cursor)).toEqual([1, 2]);
    expect(cloud.frames.filter((f) => f.type === 'ack').map((f) => f.type === 'ack' && f.cursor)).toEqual([
      1, 2, 2, 2,
    ]);
  });

  it('acknowledges a task only after the daemon accepted it; a refused one comes again', async () => {
    let refuse = true;
    const accepted: number[] = [];
    const { link } = makeLink({
      onTask: async (message) => {
        if (refuse) throw new Error('disk full');
        accepted.push(message.cursor);
      },
    });
    link.start();
    await until(() => link.status().state === 'CONNECTED', 'CONNECTED');
    cloud.pushTask();
    await new Promise((r) => setTimeout(r, 200));
    expect(cloud.frames.filter((f) => f.type === 'ack')).toEqual([]);
    refuse = false;
    cloud.resendAll();
    await until(() => cloud.ackedCursor === 1, 'ack of cursor 1 after acceptance');
    expect(accepted).toEqual([1]);
  });

  it('ignores an invalid frame from the cloud and stays connected', async () => {
    const { link } = makeLink();
    link.start();
    await until(() => link.status().state === 'CONNECTED', 'CONNECTED');
    cloud.sendRaw(JSON.stringify({ type: 'task', cursor: -1 }));
    cloud.sendRaw('not json');
    await until(() => logs.filter((l) => l.includes('ignored')).length === 2, 'two warnings');
    expect(link.status().state).toBe('CONNECTED');
  });

  it('stop() says going_offline over the WebSocket, within 2 s', async () => {
    const { link } = makeLink();
    link.start();
    await until(() => link.status().state === 'CONNECTED', 'CONNECTED');
    const started = Date.now();
    await link.stop('service stopping');
    expect(Date.now() - started).toBeLessThan(2000);
    expect(cloud.goingOffline).toEqual([{ via: 'ws', reason: 'service stopping' }]);
    expect(link.status()).toMatchObject({ state: 'DISCONNECTED', reason: 'stopped: service stopping' });
    await until(() => cloud.openSockets === 0, 'the socket closed');
    await clock.wait(20_000);
    expect(cloud.connections).toBe(1);
  });

  it('stop() while polling says going-offline over HTTP', async () => {
    cloud.refuseAll = true;
    const { link } = makeLink();
    link.start();
    await until(() => link.status().state === 'POLLING', 'POLLING');
    await until(() => cloud.refreshes === 1, 'a session token');
    await link.stop();
    expect(cloud.goingOffline).toEqual([{ via: 'http', reason: undefined }]);
  });

  it('after close 4000 (replaced) waits at the backoff cap instead of fighting', async () => {
    const { link } = makeLink();
    link.start();
    await until(() => link.status().state === 'CONNECTED', 'CONNECTED');
    cloud.closeSockets(4000, 'replaced by a newer connection');
    await until(() => link.status().state === 'RECONNECTING', 'RECONNECTING');
    const lostAt = clock.now();
    await until(() => link.status().state === 'CONNECTED', 'CONNECTED again', 6000);
    expect(clock.now() - lostAt).toBeGreaterThanOrEqual(59_000);
    expect(logs.some((l) => l.includes('"level":50') && l.includes('another connection'))).toBe(true);
  });

  it('makes at most 10 attempts a minute against a cloud that drops every connection', async () => {
    cloud.closeAfterWelcome = true;
    const { link } = makeLink();
    const started = clock.now();
    link.start();
    await until(() => cloud.connections >= 11, 'an 11th connection', 6000);
    expect(clock.now() - started).toBeGreaterThanOrEqual(59_000);
    expect(logs.some((l) => l.includes('"rate_limited":true'))).toBe(true);
  });

  it('reconnects at once when the clock jumps (wake from sleep)', async () => {
    const { link, states } = makeLink();
    link.start();
    await until(() => link.status().state === 'CONNECTED', 'CONNECTED');
    clock.jump(10 * 60_000);
    await until(() => cloud.connections === 2, 'a new connection');
    await until(() => link.status().state === 'CONNECTED', 'CONNECTED again');
    expect(states.some((s) => s.reason?.includes('woke from sleep'))).toBe(true);
    expect(logs.some((l) => l.includes('"delay_ms":0,') && l.includes('next WebSocket attempt'))).toBe(true);
  });
});
