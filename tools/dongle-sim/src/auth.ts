import type { CanConfig, CliMessage, RempBody, RempMessage } from '@canopy/remp';
import { EXIT } from './commands';
import { sameBytes } from './pairing';

/*
 * The token check of every non-pairing message (REMP.md §2): exactly the stored token, compared in constant
 * time; an unpaired dongle has none and rejects everything. A reply about a rejected message carries
 * FLAG_AUTH_REJECTED (docs/remp.md); what it says is decided here.
 */

export function tokenMatches(stored: Uint8Array | undefined, presented: Uint8Array): boolean {
  return stored !== undefined && sameBytes(presented, stored);
}

/** The reply to a message whose token was rejected, or undefined when it gets none (CAN frames, responses). */
export function rejectionReply(message: RempMessage, current: CanConfig): RempBody | undefined {
  if (message.type === 'cli' && message.cli.action === 'request') {
    const denied: CliMessage = {
      action: 'response',
      corrId: message.cli.corrId,
      status: 'denied',
      truncated: false,
      more: false,
      stderr: true,
      chunk: 0,
      exitCode: EXIT.denied,
      output: new TextEncoder().encode('token rejected\n'),
    };
    return { type: 'cli', cli: denied };
  }
  if (message.type === 'can_config' && message.config.action !== 'response') {
    return { type: 'can_config', config: { action: 'response', status: 'invalid', config: current } };
  }
  return undefined;
}

/**
 * Rejected tokens per sender address over the last minute, for ANNOUNCE's auth-failures TLV (docs/remp.md):
 * the cloud puts a claimed dongle on SECURITY_HOLD when one LAN address fails more than 20 times a minute
 * (spec 002 §11.3 trigger 4). Only IPv4 senders are tracked; at most 256 addresses are kept.
 */
export class AuthFailureWindow {
  static readonly WINDOW_MS = 60_000;
  static readonly MAX_ADDRESSES = 256;
  readonly #times = new Map<string, number[]>();

  constructor(private readonly clock: () => number) {}

  record(address: string): void {
    if (!/^\d{1,3}(\.\d{1,3}){3}$/.test(address)) return;
    this.#prune();
    let times = this.#times.get(address);
    if (!times) {
      if (this.#times.size >= AuthFailureWindow.MAX_ADDRESSES) return;
      times = [];
      this.#times.set(address, times);
    }
    times.push(this.clock());
  }

  /** The address with the most failures in the window and that count, or undefined when there were none. */
  worst(): { ip: string; count: number } | undefined {
    this.#prune();
    let worst: { ip: string; count: number } | undefined;
    for (const [ip, times] of this.#times) {
      if (!worst || times.length > worst.count) worst = { ip, count: times.length };
    }
    return worst;
  }

  clear(): void {
    this.#times.clear();
  }

  #prune(): void {
    const since = this.clock() - AuthFailureWindow.WINDOW_MS;
    for (const [ip, times] of this.#times) {
      while (times.length > 0 && (times[0] as number) <= since) times.shift();
      if (times.length === 0) this.#times.delete(ip);
    }
  }
}
