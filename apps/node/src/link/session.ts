import type { SessionTokenResponse } from '@canopy/protocol';
import type { Logger } from 'pino';
import { backoffDelay } from './backoff';
import type { Clock } from './clock';
import { CloudRequestError, errorText } from './http';
import { localExpiry, refreshDelayMs, serverOffset } from './token-expiry';

export type SessionTokenOptions = {
  clock: Clock;
  random: () => number;
  log: Logger;
  /** POST /agents/token/refresh with the agent token. */
  fetchToken: () => Promise<SessionTokenResponse>;
  /** The cloud rejected the agent token itself. */
  onRejected: (detail: string) => void;
  /** The token ran out and could not be refreshed. */
  onExpired: () => void;
};

/**
 * The short-lived session token (in memory only): taken from each welcome, refreshed ahead of its expiry with
 * the agent token, retried with backoff on failure.
 */
export class SessionToken {
  private token: string | null = null;
  private expiresAtIso: string | null = null;
  private expiresLocal = 0;
  private offsetMs = 0;
  private timer: unknown = null;
  private failures = 0;
  private inflight: Promise<string> | null = null;
  private active = false;

  constructor(private readonly options: SessionTokenOptions) {}

  /** Starts keeping a token (refreshes are scheduled only while active). */
  activate(): void {
    this.active = true;
  }

  /** A token from a welcome; `serverTime` calibrates the local clock against the cloud's. */
  accept(token: string, expiresAt: string, serverTime: string): void {
    this.offsetMs = serverOffset(serverTime, this.options.clock.now());
    this.store(token, expiresAt);
  }

  /** The token if it has not expired. */
  current(): string | null {
    if (this.token && this.options.clock.now() < this.expiresLocal) return this.token;
    return null;
  }

  get expiresAt(): string | null {
    return this.token ? this.expiresAtIso : null;
  }

  /** A valid token, refreshing first when there is none. */
  async get(): Promise<string> {
    return this.current() ?? this.refresh();
  }

  /** The cloud refused `token` (401 on a session request): forget it unless a newer one replaced it. */
  invalidate(token: string): void {
    if (this.token === token) this.token = null;
  }

  /** Fetches a new token; concurrent callers share one request. */
  refresh(): Promise<string> {
    this.inflight ??= this.fetchNew().finally(() => {
      this.inflight = null;
    });
    return this.inflight;
  }

  /** Forgets the token and cancels the scheduled refresh. */
  clear(): void {
    this.active = false;
    this.token = null;
    this.expiresAtIso = null;
    this.failures = 0;
    if (this.timer !== null) this.options.clock.clearTimeout(this.timer);
    this.timer = null;
  }

  private async fetchNew(): Promise<string> {
    try {
      const response = await this.options.fetchToken();
      this.store(response.token, response.expires_at);
      return response.token;
    } catch (err) {
      // Revoked, unknown, or bound to another machine: retrying cannot help; the node needs re-enrollment.
      if (
        err instanceof CloudRequestError &&
        err.status === 401 &&
        (err.code === 'AGENT_TOKEN_INVALID' || err.code === 'AGENT_FINGERPRINT_MISMATCH')
      ) {
        this.options.onRejected(err.message);
      }
      throw err;
    }
  }

  private store(token: string, expiresAt: string): void {
    const now = this.options.clock.now();
    this.token = token;
    this.expiresAtIso = expiresAt;
    this.expiresLocal = localExpiry(expiresAt, this.offsetMs, now);
    this.failures = 0;
    this.schedule(refreshDelayMs(this.expiresLocal - now));
  }

  private schedule(delayMs: number): void {
    if (this.timer !== null) this.options.clock.clearTimeout(this.timer);
    this.timer = null;
    if (!this.active) return;
    this.timer = this.options.clock.setTimeout(() => {
      this.timer = null;
      void this.scheduledRefresh();
    }, delayMs);
  }

  private async scheduledRefresh(): Promise<void> {
    try {
      await this.refresh();
      this.options.log.debug('session token refreshed');
    } catch (err) {
      if (!this.active) return;
      this.failures += 1;
      const now = this.options.clock.now();
      const expired = this.token !== null && now >= this.expiresLocal;
      this.options.log.warn(
        { err: errorText(err), attempt: this.failures, expired },
        'session token refresh failed; will retry',
      );
      if (expired) {
        this.token = null;
        this.options.onExpired();
      }
      // Retry with backoff, but try once more right at expiry if that comes first.
      const untilExpiry = this.token ? Math.max(0, this.expiresLocal - now) : Number.POSITIVE_INFINITY;
      this.schedule(Math.min(backoffDelay(this.failures, this.options.random), untilExpiry));
    }
  }
}
