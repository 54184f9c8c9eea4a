import {
  type DongleReport,
  DongleReportResponse,
  type DongleResponseMessage,
  type HeartbeatRequest,
  PollResponse,
  SessionTokenResponse,
  type TaskUpdate,
} from '@canopy/protocol';
import type { Logger } from 'pino';
import type { z } from 'zod';
import type { Clock } from './clock';
import type { Fetch } from './fetch';
import { type CloudHttpOptions, type CloudRequest, CloudRequestError, cloudRequest } from './http';
import { POLL_WAIT_S } from './poller';
import { SessionToken } from './session';

const REQUEST_TIMEOUT_MS = 10_000;

export type AgentApiOptions = {
  /** http(s)://host:port; the API is below `/api/v1`. */
  cloudUrl: string;
  agentToken: string;
  fingerprint: string;
  clock: Clock;
  random: () => number;
  log: Logger;
  fetch: Fetch;
  /** The cloud rejected the agent token: the node needs re-enrollment. */
  onRejected: (detail: string) => void;
  /** The session token ran out and could not be refreshed. */
  onExpired: () => void;
};

/** The node's HTTP endpoints of the cloud (/api/v1/agents/*), with the session token kept fresh. */
export class AgentApi {
  readonly session: SessionToken;
  private readonly http: CloudHttpOptions;
  /** Aborted by `close`: cancels every request in flight. */
  private requests = new AbortController();

  constructor(private readonly options: AgentApiOptions) {
    this.http = {
      apiBase: `${options.cloudUrl.replace(/\/+$/, '')}/api/v1`,
      fingerprint: options.fingerprint,
      clock: options.clock,
      fetch: options.fetch,
    };
    this.session = new SessionToken({
      clock: options.clock,
      random: options.random,
      log: options.log,
      fetchToken: () => this.fetchSessionToken(),
      onRejected: options.onRejected,
      onExpired: options.onExpired,
    });
  }

  /** Starts a run: requests may go out and token refreshes are scheduled. */
  open(): void {
    this.requests = new AbortController();
    this.session.activate();
  }

  /** Ends a run: cancels requests in flight and forgets the session token. */
  close(): void {
    this.session.clear();
    this.requests.abort();
  }

  async heartbeat(body: HeartbeatRequest): Promise<void> {
    await this.authed({ method: 'POST', path: '/agents/heartbeat', body, timeoutMs: REQUEST_TIMEOUT_MS });
  }

  async reportDongles(report: DongleReport): Promise<DongleReportResponse> {
    const body = await this.authed({
      method: 'POST',
      path: '/agents/devices/report',
      body: report,
      timeoutMs: REQUEST_TIMEOUT_MS,
    });
    return parseAnswer(DongleReportResponse, body, 'POST /agents/devices/report');
  }

  /** Long poll: acknowledges everything ≤ `cursor`, waits up to 25 s for newer tasks. */
  async poll(cursor: number, signal: AbortSignal): Promise<PollResponse> {
    const body = await this.authed({
      method: 'GET',
      path: `/agents/poll?cursor=${cursor}&wait_s=${POLL_WAIT_S}`,
      timeoutMs: (POLL_WAIT_S + 10) * 1000,
      signal,
    });
    return parseAnswer(PollResponse, body, 'GET /agents/poll');
  }

  /** A polling node's answer to a dongle request that came in a poll. */
  async dongleResponse(message: DongleResponseMessage): Promise<void> {
    await this.authed({
      method: 'POST',
      path: '/agents/dongles/response',
      body: message,
      timeoutMs: REQUEST_TIMEOUT_MS,
    });
  }

  async postUpdate(update: TaskUpdate): Promise<void> {
    await this.authed({
      method: 'POST',
      path: `/agents/tasks/${encodeURIComponent(update.task_id)}/update`,
      body: update,
      timeoutMs: REQUEST_TIMEOUT_MS,
    });
  }

  /** Works after `close` too, with a token saved before it: the last word of a stopping link. */
  async goingOffline(token: string, reason: string | undefined, timeoutMs: number): Promise<void> {
    await cloudRequest(this.http, {
      method: 'POST',
      path: '/agents/going-offline',
      token,
      body: reason ? { reason: reason.slice(0, 200) } : {},
      timeoutMs,
    });
  }

  private async fetchSessionToken(): Promise<SessionTokenResponse> {
    const body = await this.request({
      method: 'POST',
      path: '/agents/token/refresh',
      token: this.options.agentToken,
      timeoutMs: REQUEST_TIMEOUT_MS,
    });
    return parseAnswer(SessionTokenResponse, body, 'POST /agents/token/refresh');
  }

  private request(request: CloudRequest): Promise<unknown> {
    const signal = request.signal
      ? AbortSignal.any([request.signal, this.requests.signal])
      : this.requests.signal;
    return cloudRequest(this.http, { ...request, signal });
  }

  /** With the session token; on a 401 the token is refreshed with the agent token and the request retried once. */
  private async authed(request: Omit<CloudRequest, 'token'>): Promise<unknown> {
    const token = await this.session.get();
    try {
      return await this.request({ ...request, token });
    } catch (err) {
      if (!(err instanceof CloudRequestError) || err.status !== 401) throw err;
      this.session.invalidate(token);
      const fresh = this.session.current() ?? (await this.session.refresh());
      return await this.request({ ...request, token: fresh });
    }
  }
}

function parseAnswer<T extends z.ZodType>(schema: T, body: unknown, label: string): z.infer<T> {
  const parsed = schema.safeParse(body);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new CloudRequestError(
      `${label}: unexpected answer (${issue ? `${issue.path.join('.')}: ${issue.message}` : 'invalid'})`,
      200,
      null,
    );
  }
  return parsed.data;
}
