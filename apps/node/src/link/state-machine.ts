import { AgentCloseCode } from '@canopy/protocol';

/*
 * The link's connection state machine (spec 000 §1), as a pure function: no timers, no sockets. The shell
 * (link.ts) feeds it events and performs what the new state implies (open a socket, schedule an attempt,
 * start polling, tear down).
 */

export const LINK_STATES = ['DISCONNECTED', 'CONNECTING', 'CONNECTED', 'RECONNECTING', 'POLLING'] as const;
export type LinkState = (typeof LINK_STATES)[number];

/** Consecutive failed WebSocket attempts after which the link falls back to HTTP polling. */
export const POLLING_THRESHOLD = 5;

export const REENROLL_REASON = 'needs re-enrollment: run canopy-node setup <new key>';

export type LinkMachine = {
  readonly state: LinkState;
  /** Why the link is in this state, in plain words. */
  readonly reason: string;
  /** WebSocket attempts that failed since the last welcome. */
  readonly consecutiveFailures: number;
  /** Times the link came back (a welcome after having lost a connection). */
  readonly reconnects: number;
  /** The agent token was rejected: nothing is retried until the node is set up again. */
  readonly needsReenrollment: boolean;
  /** Another connection of this agent took over (close 4000): retry at the backoff cap, never fight. */
  readonly replaced: boolean;
  readonly pollingFallback: boolean;
};

export type LinkEvent =
  | { type: 'connect' }
  | { type: 'welcome' }
  /** The socket closed or failed, before or after its welcome; `code` is null when it never opened. */
  | { type: 'ws_closed'; code: number | null; detail: string }
  | { type: 'ping_timeout' }
  /** Timers ran much later than scheduled: the machine slept, the connection is probably dead. */
  | { type: 'woke'; lateMs: number }
  /** The cloud rejected the agent token (HTTP 401 AGENT_TOKEN_INVALID on the upgrade or on refresh). */
  | { type: 'credential_rejected'; detail: string }
  | { type: 'stop'; reason?: string };

export function initialMachine(options: { pollingFallback: boolean }): LinkMachine {
  return {
    state: 'DISCONNECTED',
    reason: 'not started',
    consecutiveFailures: 0,
    reconnects: 0,
    needsReenrollment: false,
    replaced: false,
    pollingFallback: options.pollingFallback,
  };
}

/** Total over states × events; an event that means nothing in a state returns the same object. */
export function transition(m: LinkMachine, event: LinkEvent): LinkMachine {
  if (m.state === 'DISCONNECTED') {
    if (event.type !== 'connect' || m.needsReenrollment) return m;
    return {
      ...m,
      state: 'CONNECTING',
      reason: 'connecting to the cloud',
      consecutiveFailures: 0,
      replaced: false,
    };
  }
  switch (event.type) {
    case 'connect':
      return m;
    case 'stop':
      return { ...m, state: 'DISCONNECTED', reason: event.reason ? `stopped: ${event.reason}` : 'stopped' };
    case 'credential_rejected':
      return reenroll(m);
    case 'welcome':
      if (m.state === 'CONNECTED') return m;
      return {
        ...m,
        state: 'CONNECTED',
        reason: 'connected over WebSocket',
        consecutiveFailures: 0,
        replaced: false,
        reconnects: m.state === 'CONNECTING' ? m.reconnects : m.reconnects + 1,
      };
    case 'ws_closed':
      return closed(m, event.code, event.detail);
    case 'ping_timeout':
      if (m.state !== 'CONNECTED') return m;
      return { ...m, state: 'RECONNECTING', reason: 'connection went stale (no pong in time); reconnecting' };
    case 'woke': {
      if (m.state === 'CONNECTING') return m;
      const slept = `woke from sleep (timers ran ${Math.round(event.lateMs / 1000)} s late)`;
      if (m.state === 'CONNECTED') return { ...m, state: 'RECONNECTING', reason: `${slept}; reconnecting` };
      return { ...m, reason: `${slept}; retrying the WebSocket now` };
    }
  }
}

function reenroll(m: LinkMachine): LinkMachine {
  return { ...m, state: 'DISCONNECTED', reason: REENROLL_REASON, needsReenrollment: true };
}

function closed(m: LinkMachine, code: number | null, detail: string): LinkMachine {
  if (code === AgentCloseCode.REVOKED) return reenroll(m);
  const replaced = code === AgentCloseCode.REPLACED;
  const why = describeClose(code, detail);
  if (m.state === 'CONNECTED') {
    return {
      ...m,
      state: 'RECONNECTING',
      reason: `connection lost: ${why}`,
      consecutiveFailures: 0,
      replaced,
    };
  }
  const failures = m.consecutiveFailures + 1;
  const next = { ...m, consecutiveFailures: failures, replaced: m.replaced || replaced };
  if (m.state === 'POLLING') {
    return { ...next, reason: `polling over HTTP; the WebSocket still fails: ${why}` };
  }
  if (m.state === 'RECONNECTING' && m.pollingFallback && failures >= POLLING_THRESHOLD) {
    return {
      ...next,
      state: 'POLLING',
      reason: `${failures} WebSocket attempts failed in a row (last: ${why}); polling over HTTP`,
    };
  }
  return { ...next, state: 'RECONNECTING', reason: `WebSocket attempt ${failures} failed: ${why}` };
}

/** Plain words for a close of /ws/agent. */
function describeClose(code: number | null, detail: string): string {
  const suffix = detail ? ` (${detail})` : '';
  switch (code) {
    case null:
      return detail || 'could not connect';
    case AgentCloseCode.REPLACED:
      return `another connection of this agent took over${suffix}`;
    case AgentCloseCode.REVOKED:
      return `the cloud revoked this node${suffix}`;
    case AgentCloseCode.IDLE_TIMEOUT:
      return `the cloud heard nothing from this node for too long${suffix}`;
    case AgentCloseCode.GOING_AWAY:
      return `the cloud is restarting${suffix}`;
    case 1006:
      return `the connection dropped${suffix}`;
    default:
      return `closed with code ${code}${suffix}`;
  }
}
