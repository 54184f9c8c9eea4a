import type { DongleRequestMessage } from '@canopy/protocol';
import type { StreamEngine, Unsubscribe } from '../engine';

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

export class AgentHub {
  constructor(private readonly engine: StreamEngine) {}

  signal(agentId: string, signal: AgentSignal): Promise<void> {
    return this.engine.publish(channel(agentId), JSON.stringify(signal));
  }

  listen(agentId: string, handler: (signal: AgentSignal) => void): Promise<Unsubscribe> {
    return this.engine.subscribe(channel(agentId), (message) => {
      try {
        handler(JSON.parse(message) as AgentSignal);
      } catch {
        // A malformed signal is dropped; it carries no data, only a nudge.
      }
    });
  }
}
