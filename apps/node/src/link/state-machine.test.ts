import { describe, expect, it } from 'vitest';
import {
  initialMachine,
  LINK_STATES,
  type LinkEvent,
  type LinkMachine,
  type LinkState,
  POLLING_THRESHOLD,
  REENROLL_REASON,
  transition,
} from './state-machine';

function machineIn(state: LinkState, extra: Partial<LinkMachine> = {}): LinkMachine {
  return { ...initialMachine({ pollingFallback: true }), state, reason: 'test', ...extra };
}

const dropped: LinkEvent = { type: 'ws_closed', code: 1006, detail: '' };
const refused: LinkEvent = { type: 'ws_closed', code: null, detail: 'HTTP 503' };

describe('the transition table of spec 000 §1', () => {
  it('DISCONNECTED → CONNECTING on connect()', () => {
    const next = transition(initialMachine({ pollingFallback: true }), { type: 'connect' });
    expect(next).toMatchObject({ state: 'CONNECTING', consecutiveFailures: 0 });
  });

  it('CONNECTING → CONNECTED on welcome', () => {
    const next = transition(machineIn('CONNECTING'), { type: 'welcome' });
    expect(next).toMatchObject({ state: 'CONNECTED', reconnects: 0, reason: 'connected over WebSocket' });
  });

  it('CONNECTING → RECONNECTING on WS error/close', () => {
    const next = transition(machineIn('CONNECTING'), refused);
    expect(next).toMatchObject({ state: 'RECONNECTING', consecutiveFailures: 1 });
    expect(next.reason).toContain('HTTP 503');
  });

  it('CONNECTED → RECONNECTING on WS close', () => {
    const next = transition(machineIn('CONNECTED'), { type: 'ws_closed', code: 1001, detail: 'bye' });
    expect(next).toMatchObject({ state: 'RECONNECTING', consecutiveFailures: 0, replaced: false });
    expect(next.reason).toBe('connection lost: the cloud is restarting (bye)');
  });

  it('CONNECTED → RECONNECTING on ping timeout', () => {
    const next = transition(machineIn('CONNECTED'), { type: 'ping_timeout' });
    expect(next).toMatchObject({ state: 'RECONNECTING', consecutiveFailures: 0 });
    expect(next.reason).toContain('stale');
  });

  it('RECONNECTING → CONNECTED on welcome, counting the reconnect and resetting failures', () => {
    const next = transition(machineIn('RECONNECTING', { consecutiveFailures: 3, reconnects: 2 }), {
      type: 'welcome',
    });
    expect(next).toMatchObject({ state: 'CONNECTED', consecutiveFailures: 0, reconnects: 3 });
  });

  it(`RECONNECTING → POLLING after ${POLLING_THRESHOLD} consecutive WS failures`, () => {
    let m = transition(machineIn('CONNECTING'), refused);
    const seen: LinkState[] = [m.state];
    for (let i = 1; i < POLLING_THRESHOLD; i++) {
      m = transition(m, refused);
      seen.push(m.state);
    }
    expect(seen).toEqual(['RECONNECTING', 'RECONNECTING', 'RECONNECTING', 'RECONNECTING', 'POLLING']);
    expect(m.consecutiveFailures).toBe(5);
    expect(m.reason).toContain('polling over HTTP');
  });

  it('POLLING → CONNECTED when a background WS attempt succeeds', () => {
    const next = transition(machineIn('POLLING', { consecutiveFailures: 7 }), { type: 'welcome' });
    expect(next).toMatchObject({ state: 'CONNECTED', consecutiveFailures: 0, reconnects: 1 });
  });

  it.each(LINK_STATES.filter((s) => s !== 'DISCONNECTED'))('%s → DISCONNECTED on stop()', (state) => {
    const next = transition(machineIn(state), { type: 'stop', reason: 'service stop' });
    expect(next).toMatchObject({
      state: 'DISCONNECTED',
      reason: 'stopped: service stop',
      needsReenrollment: false,
    });
  });
});

describe('beyond the table', () => {
  it('keeps reconnecting without a limit when polling fallback is disabled', () => {
    let m = machineIn('RECONNECTING', { pollingFallback: false });
    for (let i = 0; i < 20; i++) m = transition(m, refused);
    expect(m).toMatchObject({ state: 'RECONNECTING', consecutiveFailures: 20 });
  });

  it('stays POLLING when a background attempt fails, counting it', () => {
    const next = transition(machineIn('POLLING', { consecutiveFailures: 5 }), refused);
    expect(next).toMatchObject({ state: 'POLLING', consecutiveFailures: 6 });
  });

  it.each(LINK_STATES.filter((s) => s !== 'DISCONNECTED'))(
    '%s → DISCONNECTED needing re-enrollment on close 4003',
    (state) => {
      const next = transition(machineIn(state), { type: 'ws_closed', code: 4003, detail: 'node removed' });
      expect(next).toMatchObject({ state: 'DISCONNECTED', needsReenrollment: true, reason: REENROLL_REASON });
    },
  );

  it.each(LINK_STATES.filter((s) => s !== 'DISCONNECTED'))(
    '%s → DISCONNECTED needing re-enrollment when the agent token is rejected',
    (state) => {
      const next = transition(machineIn(state), { type: 'credential_rejected', detail: '401' });
      expect(next).toMatchObject({ state: 'DISCONNECTED', needsReenrollment: true });
    },
  );

  it('does not connect again once re-enrollment is needed', () => {
    const m = machineIn('DISCONNECTED', { needsReenrollment: true, reason: REENROLL_REASON });
    expect(transition(m, { type: 'connect' })).toBe(m);
  });

  it('marks a close 4000 as replaced until the next welcome', () => {
    const replaced = transition(machineIn('CONNECTED'), { type: 'ws_closed', code: 4000, detail: '' });
    expect(replaced).toMatchObject({ state: 'RECONNECTING', replaced: true });
    expect(replaced.reason).toContain('another connection of this agent took over');
    const failedAgain = transition(replaced, refused);
    expect(failedAgain.replaced).toBe(true);
    expect(transition(failedAgain, { type: 'welcome' }).replaced).toBe(false);
  });

  it('CONNECTED → RECONNECTING when waking from sleep', () => {
    const next = transition(machineIn('CONNECTED'), { type: 'woke', lateMs: 3_600_000 });
    expect(next.state).toBe('RECONNECTING');
    expect(next.reason).toContain('woke from sleep (timers ran 3600 s late)');
  });

  it('stays RECONNECTING or POLLING when waking, with a new reason so the shell retries now', () => {
    for (const state of ['RECONNECTING', 'POLLING'] as const) {
      const m = machineIn(state);
      const next = transition(m, { type: 'woke', lateMs: 60_000 });
      expect(next).not.toBe(m);
      expect(next.state).toBe(state);
    }
  });

  it('starts a new run with a clean failure count after stop and connect', () => {
    const stopped = transition(machineIn('POLLING', { consecutiveFailures: 9, replaced: true }), {
      type: 'stop',
    });
    expect(transition(stopped, { type: 'connect' })).toMatchObject({
      state: 'CONNECTING',
      consecutiveFailures: 0,
      replaced: false,
    });
  });
});

describe('ignored events', () => {
  const ignored: Array<[LinkState, LinkEvent]> = [
    ['DISCONNECTED', { type: 'welcome' }],
    ['DISCONNECTED', dropped],
    ['DISCONNECTED', { type: 'ping_timeout' }],
    ['DISCONNECTED', { type: 'woke', lateMs: 60_000 }],
    ['DISCONNECTED', { type: 'credential_rejected', detail: 'late answer' }],
    ['DISCONNECTED', { type: 'stop' }],
    ['CONNECTING', { type: 'connect' }],
    ['CONNECTING', { type: 'ping_timeout' }],
    ['CONNECTING', { type: 'woke', lateMs: 60_000 }],
    ['CONNECTED', { type: 'connect' }],
    ['CONNECTED', { type: 'welcome' }],
    ['RECONNECTING', { type: 'connect' }],
    ['RECONNECTING', { type: 'ping_timeout' }],
    ['POLLING', { type: 'connect' }],
    ['POLLING', { type: 'ping_timeout' }],
  ];

  it.each(ignored)('%s ignores %o', (state, event) => {
    const m = machineIn(state);
    expect(transition(m, event)).toBe(m);
  });

  it('answers every state × event with a known state', () => {
    const events: LinkEvent[] = [
      { type: 'connect' },
      { type: 'welcome' },
      dropped,
      refused,
      { type: 'ws_closed', code: 4000, detail: '' },
      { type: 'ws_closed', code: 4003, detail: '' },
      { type: 'ping_timeout' },
      { type: 'woke', lateMs: 40_000 },
      { type: 'credential_rejected', detail: '' },
      { type: 'stop' },
    ];
    for (const state of LINK_STATES) {
      for (const event of events) expect(LINK_STATES).toContain(transition(machineIn(state), event).state);
    }
  });
});
