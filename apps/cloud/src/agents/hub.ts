import type { DongleRequestMessage } from '@canopy/protocol';
import { listenUserStatus, type UserStatusChange } from '../accounts/status-changes';
import type { StreamEngine, Unsubscribe } from '../engine';
import type { SealedSignal, SignalSealer } from './signal-seal';

/**
 * Signals about one agent between cloud instances (through the stream engine's pub/sub):
 * - wake: something new is queued for it; whoever holds its connection or poll delivers it;
 * - connected: a new connection took over (others whose upgrade request came earlier close with REPLACED);
 * - revoked: it was removed; every connection of it closes with REVOKED;
 * - scan: its user opened the Dongles page; the connection asks it to scan now (`scan_request`);
 * - dongle_request: a request to one of its dongles; the connection forwards it (the answer comes back on
 *   the request's reply channel).
 */
export type AgentSignal =
  | { kind: 'wake' }
  | { kind: 'connected'; connection: string; startedAt: number }
  | { kind: 'revoked' }
  | { kind: 'scan'; fastUntil: string }
  | { kind: 'dongle_request'; message: DongleRequestMessage };

const channel = (agentId: string) => `agent:${agentId}`;

/** How a dongle request travels when a sealer is set: its id in clear, the rest sealed. */
type SealedRequest = { kind: 'sealed_dongle_request'; request_id: string; sealed: SealedSignal };

export class AgentHub {
  /** With a sealer, dongle requests (tokens, PINs) cross the engine sealed (see signal-seal.ts). */
  constructor(
    private readonly engine: StreamEngine,
    private readonly sealer?: SignalSealer,
  ) {}

  signal(agentId: string, signal: AgentSignal): Promise<void> {
    if (signal.kind === 'dongle_request' && this.sealer) {
      const id = signal.message.request_id;
      const wire: SealedRequest = {
        kind: 'sealed_dongle_request',
        request_id: id,
        sealed: this.sealer.seal(agentId, id, Buffer.from(JSON.stringify(signal.message))),
      };
      return this.engine.publish(channel(agentId), JSON.stringify(wire));
    }
    return this.engine.publish(channel(agentId), JSON.stringify(signal));
  }

  /** Account status changes (one subscription for all of a gateway's nodes): a disabled user's nodes close. */
  listenUsers(handler: (change: UserStatusChange) => void): Promise<Unsubscribe> {
    return listenUserStatus(this.engine, handler);
  }

  listen(agentId: string, handler: (signal: AgentSignal) => void): Promise<Unsubscribe> {
    return this.engine.subscribe(channel(agentId), (message) => {
      try {
        const parsed = JSON.parse(message) as AgentSignal | SealedRequest;
        if (parsed.kind !== 'sealed_dongle_request') return handler(parsed);
        if (!this.sealer) return;
        const plain = this.sealer.open(agentId, parsed.request_id, parsed.sealed);
        handler({ kind: 'dongle_request', message: JSON.parse(plain.toString('utf8')) });
      } catch {
        // A malformed signal, or one that does not open, is dropped: its caller times out.
      }
    });
  }
}
