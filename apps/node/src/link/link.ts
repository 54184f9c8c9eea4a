import { EventEmitter } from 'node:events';
import {
  AgentCloseCode,
  type DongleReport,
  type DongleRequestMessage,
  type DongleResponseMessage,
  type HeartbeatRequest,
  type TaskMessage,
  type TaskUpdate,
  type WelcomeMessage,
} from '@canopy/protocol';
import type { Logger } from 'pino';
import { AgentApi } from './api';
import { AttemptLimiter, reconnectDelay } from './backoff';
import { type Clock, systemClock } from './clock';
import { type Fetch, httpFetch } from './fetch';
import { errorText } from './http';
import { Poller } from './poller';
import { PROBE_SPREAD_MS, ReturnProbe } from './probe';
import { AgentSocket, type SocketClose } from './socket';
import {
  initialMachine,
  type LinkEvent,
  type LinkMachine,
  type LinkState,
  REENROLL_REASON,
  transition,
} from './state-machine';
import { UpdateQueue } from './updates';

export type LinkOptions = {
  /** http(s)://host:port; the API is below `/api/v1`. */
  cloudUrl: string;
  /** ws(s)://host:port/ws/agent */
  wsUrl: string;
  agentToken: string;
  fingerprint: string;
  version: string;
  log: Logger;
  clock?: Clock;
  random?: () => number;
  enablePollingFallback: boolean;
  /**
   * Receives each new task once. The link acknowledges a task's cursor only after the returned promise
   * resolves (the daemon has stored it), so a crash in between means re-delivery, never a lost task.
   */
  onTask: (message: TaskMessage) => void | Promise<void>;
  heartbeatState?: () => { uptime_s: number };
  /** The cloud wants dongle scans every 2–5 s until this time (a Dongles page is open). */
  onScanRequest?: (fastUntil: string) => void;
  /** A request to one of this node's dongles; its outcome goes back on the socket it came on. */
  onDongleRequest?: (message: DongleRequestMessage) => Promise<DongleResponseMessage['outcome']>;
  /** The service manager running this daemon (CANOPY_NODE_SERVICE), sent with every heartbeat. */
  service?: HeartbeatRequest['service'];
  /** Client ping interval (default 25 s) and how long a pong may take (default 10 s). */
  pingIntervalMs?: number;
  pongTimeoutMs?: number;
  fetch?: Fetch;
};

export type LinkStatus = {
  state: LinkState;
  /** When the link entered this state (ISO). */
  since: string;
  reason: string | null;
  needsReenrollment: boolean;
  /** A WebSocket to the cloud is open (it may still wait for its welcome). */
  wsConnected: boolean;
  reconnects: number;
  lastError: string | null;
  lastConnectedAt: string | null;
  agentId: string | null;
  agentName: string | null;
  tokenExpiresAt: string | null;
};

export type LinkWelcome = { agentId: string; name: string; expiresAt: string; serverTime: string };

export type LinkEvents = { state: [status: LinkStatus]; welcome: [welcome: LinkWelcome] };

/** The link was stopped, or the node needs re-enrollment: pending task updates are rejected with this. */
export class LinkStoppedError extends Error {
  override name = 'LinkStoppedError';
}

const HEARTBEAT_INTERVAL_MS = 30_000;
/** A tick every 10 s; one that fires over 30 s late means the machine was suspended. */
const WATCHDOG_INTERVAL_MS = 10_000;
const WAKE_THRESHOLD_MS = 30_000;
/**
 * How long an attempt may wait for the cloud's 101. After a cloud restart every node reconnects at once and
 * the cloud admits them a few at a time in arrival order (its handshake gate): a node that gives up loses its
 * place in line and comes back at the end, so this is generous. Measured with 2,000 nodes on PGlite: the last
 * waited about 22 s.
 */
export const HANDSHAKE_TIMEOUT_MS = 30_000;
/** From the 101 to the `welcome` (the cloud sends it at once). */
export const WELCOME_TIMEOUT_MS = 10_000;
const STOP_TIMEOUT_MS = 2000;
const UPDATE_ACK_TIMEOUT_MS = 15_000;

/**
 * How canopy-node stays connected (spec 000 §1, §6): the WebSocket to the cloud with backoff, liveness pings,
 * session-token refresh, heartbeats, HTTP long polling as the fallback, and task updates delivered until
 * acknowledged. Emits `state` on every change and `welcome` on every (re)connection.
 */
export class Link extends EventEmitter<LinkEvents> {
  private machine: LinkMachine;
  private since: number;
  private lastError: string | null = null;
  private lastConnectedAt: string | null = null;
  private agentId: string | null = null;
  private agentName: string | null = null;
  private socket: AgentSocket | null = null;
  private attemptTimer: unknown = null;
  private heartbeatTimer: unknown = null;
  private heartbeatBusy = false;
  private beatSent = false;
  private heartbeatFailing = false;
  private watchdogTimer: unknown = null;
  private watchdogDue = 0;
  /** The highest task cursor delivered to onTask, which is what the link acknowledges. */
  private lastCursor = 0;
  private delivering: Promise<void> = Promise.resolve();
  private readonly probe: ReturnProbe;
  private stopping: Promise<void> | null = null;
  private readonly limiter = new AttemptLimiter();
  private readonly clock: Clock;
  private readonly random: () => number;
  private readonly log: Logger;
  private readonly api: AgentApi;
  private readonly poller: Poller;
  private readonly updates: UpdateQueue;

  constructor(private readonly options: LinkOptions) {
    super();
    checkUrl(options.cloudUrl, ['http:', 'https:'], 'cloudUrl');
    checkUrl(options.wsUrl, ['ws:', 'wss:'], 'wsUrl');
    this.clock = options.clock ?? systemClock;
    this.random = options.random ?? Math.random;
    this.log = options.log.child({ component: 'link' });
    this.machine = initialMachine({ pollingFallback: options.enablePollingFallback });
    this.since = this.clock.now();
    this.api = new AgentApi({
      cloudUrl: options.cloudUrl,
      agentToken: options.agentToken,
      fingerprint: options.fingerprint,
      clock: this.clock,
      random: this.random,
      log: this.log,
      fetch: options.fetch ?? httpFetch,
      onRejected: (detail) => this.credentialRejected(detail),
      onExpired: () => this.sessionExpired(),
    });
    this.poller = new Poller({
      clock: this.clock,
      log: this.log,
      poll: (cursor, signal) => this.api.poll(cursor, signal),
      cursor: () => this.lastCursor,
      deliver: async (response) => {
        if (response.fast_scan_until) this.options.onScanRequest?.(response.fast_scan_until);
        for (const request of response.dongle_requests ?? []) this.onPolledDongleRequest(request);
        if (await this.deliver(response.messages))
          this.lastCursor = Math.max(this.lastCursor, response.cursor);
      },
    });
    this.probe = new ReturnProbe({
      clock: this.clock,
      random: this.random,
      readyUrl: `${options.cloudUrl.replace(/\/+$/, '')}/readyz`,
      fetch: options.fetch ?? httpFetch,
      onUp: () => this.cloudIsBack(),
    });
    this.updates = new UpdateQueue({
      clock: this.clock,
      random: this.random,
      log: this.log,
      ackTimeoutMs: UPDATE_ACK_TIMEOUT_MS,
      transport: {
        wsReady: () => this.machine.state === 'CONNECTED' && (this.socket?.ready ?? false),
        sendFrame: (update) => this.socket?.send({ type: 'task_update', ...update }) ?? false,
        post: (update) => {
          if (this.stopped) return Promise.reject(new Error('the link is not started'));
          return this.api.postUpdate(update);
        },
      },
    });
  }

  start(): void {
    if (this.machine.needsReenrollment) {
      this.log.error(`not connecting: ${REENROLL_REASON}`);
      return;
    }
    if (this.machine.state !== 'DISCONNECTED') return;
    this.api.open();
    this.updates.reopen();
    this.scheduleHeartbeat();
    this.scheduleWatchdog();
    this.dispatch({ type: 'connect' });
  }

  /**
   * Tells the cloud the node is going offline (`going_offline` over the WebSocket, or the HTTP endpoint when
   * there is no socket), then closes everything. Takes at most 2 s.
   */
  stop(reason?: string): Promise<void> {
    if (this.machine.state === 'DISCONNECTED') return this.stopping ?? Promise.resolve();
    this.stopping = this.shutdown(reason).finally(() => {
      this.stopping = null;
    });
    return this.stopping;
  }

  private async shutdown(reason: string | undefined): Promise<void> {
    const socket = this.socket?.ready ? this.socket : null;
    const token = socket ? null : this.api.session.current();
    // The welcomed socket is kept out of the teardown so that it can still say goodbye.
    if (socket) this.socket = null;
    this.dispatch({ type: 'stop', reason });
    if (socket) {
      await socket.goodbye(reason, STOP_TIMEOUT_MS);
    } else if (token) {
      try {
        await this.api.goingOffline(token, reason, STOP_TIMEOUT_MS);
      } catch (err) {
        this.log.warn({ err: errorText(err) }, 'could not tell the cloud that this node goes offline');
      }
    }
  }

  status(): LinkStatus {
    const m = this.machine;
    return {
      state: m.state,
      since: new Date(this.since).toISOString(),
      reason: m.reason,
      needsReenrollment: m.needsReenrollment,
      wsConnected: this.socket?.open ?? false,
      reconnects: m.reconnects,
      lastError: this.lastError,
      lastConnectedAt: this.lastConnectedAt,
      agentId: this.agentId,
      agentName: this.agentName,
      tokenExpiresAt: this.api.session.expiresAt,
    };
  }

  /**
   * Queues a task update; resolves once the cloud acknowledged it (`update_ack` or HTTP 2xx). Retried across
   * reconnects; rejected when the cloud refuses it for good (4xx) or the link stops.
   */
  sendTaskUpdate(update: TaskUpdate): Promise<void> {
    return this.updates.push(update);
  }

  /**
   * Sends the dongle snapshot: a `dongle_report` frame on the live WebSocket, else POST
   * /agents/devices/report (which answers until when to scan fast). Rejects when neither is possible now;
   * a snapshot replaces the previous one, so the bridge just sends the next.
   */
  async reportDongles(report: DongleReport): Promise<{ fastScanUntil: string | null } | undefined> {
    if (this.stopped) throw new Error('the link is not started');
    if (this.machine.state === 'CONNECTED' && this.socket?.ready) {
      if (this.socket.send({ type: 'dongle_report', ...report })) return undefined;
    }
    const answer = await this.api.reportDongles(report);
    return { fastScanUntil: answer.fast_scan_until };
  }

  // ---- the state machine and its effects ----

  private dispatch(event: LinkEvent): void {
    const previous = this.machine;
    const next = transition(previous, event);
    if (next === previous) return;
    this.machine = next;
    if (next.state !== previous.state) {
      this.since = this.clock.now();
      this.logTransition(previous, next);
    }
    this.enter(previous, next, event);
    this.notify('state', this.status());
  }

  /** A listener that throws must not break the link's own bookkeeping. */
  private notify<K extends keyof LinkEvents>(event: K, ...args: LinkEvents[K]): void {
    try {
      this.emit(event, ...(args as never));
    } catch (err) {
      this.log.error({ err: errorText(err), event }, 'a link event listener threw');
    }
  }

  private enter(previous: LinkMachine, next: LinkMachine, event: LinkEvent): void {
    switch (next.state) {
      case 'DISCONNECTED':
        this.teardown(new LinkStoppedError(next.needsReenrollment ? REENROLL_REASON : 'the link stopped'));
        return;
      case 'CONNECTING':
        this.openSocket();
        return;
      case 'CONNECTED':
        this.probe.reset();
        this.clearAttempt();
        this.poller.stop();
        this.updates.wake();
        // The first heartbeat goes out at once (then every 30 s), so the dashboard knows the node's uptime,
        // version and whether a service runs it without waiting half a minute.
        if (!this.beatSent) void this.beat();
        return;
      case 'RECONNECTING':
      case 'POLLING': {
        if (previous.state === 'CONNECTED') this.dropSocket();
        if (next.state === 'POLLING' && previous.state !== 'POLLING') {
          this.probe.reset();
          this.poller.start();
          this.updates.wake();
          void this.beat();
        } else if (event.type === 'woke') {
          this.poller.restart();
        }
        this.scheduleAttempt(event.type === 'woke');
        return;
      }
    }
  }

  private logTransition(previous: LinkMachine, next: LinkMachine): void {
    const fields = { from: previous.state, to: next.state, failures: next.consecutiveFailures };
    if (next.state === 'CONNECTED') {
      if (previous.state === 'CONNECTING') this.log.info({ ...fields, agent_id: this.agentId }, 'connected');
      else this.log.warn({ ...fields, reconnects: next.reconnects }, 'reconnected');
    } else if (next.state === 'DISCONNECTED') {
      if (next.needsReenrollment) this.log.error(fields, next.reason);
      else this.log.info(fields, next.reason);
    } else if (next.state !== 'CONNECTING') {
      this.log.warn(fields, next.reason);
    }
  }

  private teardown(error: Error): void {
    this.probe.reset();
    this.clearAttempt();
    this.clearTimer(this.heartbeatTimer);
    this.heartbeatTimer = null;
    this.clearTimer(this.watchdogTimer);
    this.watchdogTimer = null;
    this.dropSocket();
    this.poller.stop();
    this.api.close();
    this.updates.close(error);
  }

  // ---- the WebSocket ----

  private openSocket(): void {
    this.clearAttempt();
    const { state } = this.machine;
    if (this.socket || (state !== 'CONNECTING' && state !== 'RECONNECTING' && state !== 'POLLING')) return;
    this.limiter.record(this.clock.now());
    const socket: AgentSocket = new AgentSocket(
      {
        url: this.options.wsUrl,
        agentToken: this.options.agentToken,
        fingerprint: this.options.fingerprint,
        clock: this.clock,
        log: this.log,
        handshakeTimeoutMs: HANDSHAKE_TIMEOUT_MS,
        welcomeTimeoutMs: WELCOME_TIMEOUT_MS,
        pingIntervalMs: this.options.pingIntervalMs ?? 25_000,
        pongTimeoutMs: this.options.pongTimeoutMs ?? 10_000,
      },
      {
        onWelcome: (message) => this.onWelcome(socket, message),
        onTask: (message) => this.onTaskMessage(socket, message),
        onUpdateAck: (message) => this.updates.acknowledge(message.task_id, message.status),
        onScanRequest: (message) => this.options.onScanRequest?.(message.fast_until),
        onDongleRequest: (message) => this.onDongleRequest(socket, message),
        onClose: (close) => this.onSocketClose(socket, close),
      },
    );
    this.socket = socket;
  }

  private dropSocket(): void {
    const socket = this.socket;
    this.socket = null;
    socket?.terminate();
    this.updates.connectionLost();
  }

  private onWelcome(socket: AgentSocket, message: WelcomeMessage): void {
    if (socket !== this.socket) {
      socket.terminate();
      return;
    }
    this.api.session.accept(message.token, message.expires_at, message.server_time);
    this.agentId = message.agent_id;
    this.agentName = message.name;
    this.lastConnectedAt = new Date(this.clock.now()).toISOString();
    this.dispatch({ type: 'welcome' });
    if (this.machine.state !== 'CONNECTED') {
      this.dropSocket();
      return;
    }
    this.notify('welcome', {
      agentId: message.agent_id,
      name: message.name,
      expiresAt: message.expires_at,
      serverTime: message.server_time,
    });
  }

  private onTaskMessage(socket: AgentSocket, message: TaskMessage): void {
    if (socket !== this.socket) return;
    void this.deliver([message]).then((ok) => {
      if (ok && socket === this.socket) socket.send({ type: 'ack', cursor: this.lastCursor });
    });
  }

  private onDongleRequest(socket: AgentSocket, message: DongleRequestMessage): void {
    void this.answerDongleRequest(message).then((outcome) => {
      // Only on the socket the request came on: a newer socket's cloud side has no one waiting for it.
      if (socket === this.socket)
        socket.send({ type: 'dongle_response', request_id: message.request_id, outcome });
    });
  }

  /** A dongle request that came in a poll: the answer goes back over HTTP (the cloud routes it to the caller). */
  private onPolledDongleRequest(message: DongleRequestMessage): void {
    void this.answerDongleRequest(message)
      .then((outcome) =>
        this.api.dongleResponse({ type: 'dongle_response', request_id: message.request_id, outcome }),
      )
      .catch((err) =>
        this.log.warn(
          { err: errorText(err), request_id: message.request_id },
          'could not answer a dongle request',
        ),
      );
  }

  private answerDongleRequest(message: DongleRequestMessage): Promise<DongleResponseMessage['outcome']> {
    const handle = this.options.onDongleRequest;
    if (!handle) {
      return Promise.resolve({
        ok: false,
        code: 'DISCOVERY_OFF',
        message: 'this node does not bridge dongles',
      });
    }
    return handle(message).catch((err): DongleResponseMessage['outcome'] => ({
      ok: false,
      code: 'NODE_ERROR',
      message: err instanceof Error ? err.message.slice(0, 200) : 'the request failed',
    }));
  }

  private onSocketClose(socket: AgentSocket, close: SocketClose): void {
    if (socket !== this.socket) return;
    this.socket = null;
    this.updates.connectionLost();
    this.lastError = close.detail || `WebSocket closed with code ${close.code}`;
    if (close.refusedWith === 'AGENT_TOKEN_INVALID' || close.refusedWith === 'AGENT_FINGERPRINT_MISMATCH') {
      this.credentialRejected(close.detail);
      return;
    }
    if (close.code === AgentCloseCode.REPLACED) {
      this.log.error(
        'another connection of this agent took over (is canopy-node running twice with the same identity?); ' +
          'retrying only at the backoff cap',
      );
    }
    if (close.stale && this.machine.state === 'CONNECTED') this.dispatch({ type: 'ping_timeout' });
    else this.dispatch({ type: 'ws_closed', code: close.code, detail: close.detail });
    // Whatever the machine made of it, a link that should be retrying always has an attempt scheduled.
    this.scheduleAttempt(false);
    if (close.unreachable && this.machine.state === 'RECONNECTING') this.probe.watch();
    else this.probe.pause();
  }

  /**
   * The probe saw the cloud answer: attempt within half a second instead of at the next backoff step. The
   * random spread keeps thousands of nodes that saw the same restart from arriving in the same instant.
   */
  private cloudIsBack(): void {
    if (this.machine.state !== 'RECONNECTING' || this.socket) return;
    if (this.limiter.waitMs(this.clock.now()) > 0) return;
    this.log.info('the cloud answers again; reconnecting now');
    this.clearAttempt();
    this.attemptTimer = this.clock.setTimeout(() => {
      this.attemptTimer = null;
      this.openSocket();
    }, this.random() * PROBE_SPREAD_MS);
  }

  private scheduleAttempt(immediately: boolean): void {
    const { state } = this.machine;
    if ((state !== 'RECONNECTING' && state !== 'POLLING') || this.socket) return;
    if (this.attemptTimer !== null) {
      if (!immediately) return;
      this.clearAttempt();
    }
    const backoff = immediately ? 0 : reconnectDelay(this.machine, this.random);
    const limit = this.limiter.waitMs(this.clock.now());
    const delay = Math.max(backoff, limit);
    this.log.warn(
      { state, failures: this.machine.consecutiveFailures, delay_ms: delay, rate_limited: limit > backoff },
      `next WebSocket attempt in ${(delay / 1000).toFixed(1)} s`,
    );
    this.attemptTimer = this.clock.setTimeout(() => {
      this.attemptTimer = null;
      this.openSocket();
    }, delay);
  }

  private clearAttempt(): void {
    this.clearTimer(this.attemptTimer);
    this.attemptTimer = null;
  }

  /**
   * Hands new tasks to the daemon in cursor order, each cursor once, one batch at a time. The cursor advances
   * only past tasks the daemon accepted; on a failure the rest waits for re-delivery. Resolves true when
   * every message was accepted.
   */
  private deliver(messages: TaskMessage[]): Promise<boolean> {
    const run = async () => {
      for (const message of [...messages].sort((a, b) => a.cursor - b.cursor)) {
        if (message.cursor <= this.lastCursor) continue;
        try {
          await this.options.onTask(message);
        } catch (err) {
          this.log.error(
            { err: errorText(err), task_id: message.task.id },
            'the daemon could not take a task; it will come again',
          );
          return false;
        }
        this.lastCursor = Math.max(this.lastCursor, message.cursor);
      }
      return true;
    };
    const next = this.delivering.then(run, run);
    this.delivering = next.then(
      () => undefined,
      () => undefined,
    );
    return next;
  }

  // ---- tokens ----

  private credentialRejected(detail: string): void {
    this.lastError = detail;
    this.dispatch({ type: 'credential_rejected', detail });
  }

  /** The session token ran out unrefreshed: a new welcome brings a new one, so reconnect with the agent token. */
  private sessionExpired(): void {
    if (this.machine.state !== 'CONNECTED') return;
    this.dropSocket();
    this.dispatch({
      type: 'ws_closed',
      code: null,
      detail: 'the session token expired and could not be refreshed; re-authenticating',
    });
  }

  // ---- heartbeat and sleep detection ----

  private scheduleHeartbeat(): void {
    this.heartbeatTimer = this.clock.setTimeout(() => {
      this.scheduleHeartbeat();
      void this.beat();
    }, HEARTBEAT_INTERVAL_MS);
  }

  private async beat(): Promise<void> {
    if (this.heartbeatBusy || this.stopped) return;
    this.heartbeatBusy = true;
    this.beatSent = true;
    const body: HeartbeatRequest = {
      state: this.machine.state.toLowerCase(),
      uptime_s: this.options.heartbeatState?.().uptime_s ?? Math.round(process.uptime()),
      version: this.options.version,
      service: this.options.service ?? null,
    };
    try {
      await this.api.heartbeat(body);
      if (this.heartbeatFailing) this.log.info('heartbeats go through again');
      this.heartbeatFailing = false;
    } catch (err) {
      if (this.stopped) return;
      this.lastError = errorText(err);
      // The first failure of a run is a warning; the repeats would only fill the log.
      this.log[this.heartbeatFailing ? 'debug' : 'warn']({ err: this.lastError }, 'heartbeat failed');
      this.heartbeatFailing = true;
    } finally {
      this.heartbeatBusy = false;
    }
  }

  private scheduleWatchdog(): void {
    this.watchdogDue = this.clock.now() + WATCHDOG_INTERVAL_MS;
    this.watchdogTimer = this.clock.setTimeout(() => {
      const lateMs = this.clock.now() - this.watchdogDue;
      this.scheduleWatchdog();
      if (lateMs > WAKE_THRESHOLD_MS) {
        this.log.warn({ late_ms: lateMs }, 'timers ran late (woke from sleep?); reconnecting now');
        this.dispatch({ type: 'woke', lateMs });
        void this.beat();
      }
    }, WATCHDOG_INTERVAL_MS);
  }

  private get stopped(): boolean {
    return this.machine.state === 'DISCONNECTED';
  }

  private clearTimer(handle: unknown): void {
    if (handle !== null) this.clock.clearTimeout(handle);
  }
}

function checkUrl(value: string, protocols: string[], name: string): void {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new Error(`${name} is not a URL: ${value}`);
  }
  if (!protocols.includes(url.protocol)) {
    throw new Error(`${name} must start with ${protocols.map((p) => `${p}//`).join(' or ')}: ${value}`);
  }
}
