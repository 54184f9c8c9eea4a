import { randomUUID } from 'node:crypto';
import type { DongleOp, DongleRequestMessage, DongleResponseMessage, DongleResult } from '@canopy/protocol';
import type { StreamEngine } from '../engine';
import { ApiError } from '../http/errors';

const replyChannel = (requestId: string) => `dongle-reply:${requestId}`;

/** How long the cloud waits for a node's answer: the node's own REMP timeout (5 s) and the trip around it. */
export const RPC_TIMEOUT_MS = 8000;

type Reply = { agent_id: string; outcome: DongleResponseMessage['outcome'] };

/**
 * Requests to a dongle through the node that sees it: whichever cloud instance holds the node's WebSocket
 * sends `dongle_request` (asked through the agent's signal channel) and publishes the node's
 * `dongle_response` on a reply channel that the waiting instance listens to.
 */
export class DongleRpc {
  constructor(
    private readonly deps: {
      engine: StreamEngine;
      /** Hands the request to the instance holding the node's connection. */
      send: (agentId: string, message: DongleRequestMessage) => Promise<void>;
    },
  ) {}

  /** The dongle's answer, or an ApiError: 409 AGENT_OFFLINE, 504 DONGLE_TIMEOUT. */
  async call<O extends DongleOp>(
    agentId: string,
    deviceId: string,
    request: O,
    timeoutMs = RPC_TIMEOUT_MS,
  ): Promise<Extract<DongleResult, { op: O['op'] }>> {
    const requestId = randomUUID();
    let settle: (reply: Reply | null) => void = () => {};
    const replied = new Promise<Reply | null>((resolve) => {
      settle = resolve;
    });
    const unsubscribe = await this.deps.engine.subscribe(replyChannel(requestId), (raw) => {
      try {
        const reply = JSON.parse(raw) as Reply;
        if (reply.agent_id === agentId) settle(reply); // only the node it was sent to may answer
      } catch {
        // not a reply
      }
    });
    const timer = setTimeout(() => settle(null), timeoutMs);
    try {
      await this.deps.send(agentId, {
        type: 'dongle_request',
        request_id: requestId,
        device_id: deviceId,
        request,
      });
      const reply = await replied;
      if (!reply) {
        throw new ApiError(
          504,
          'DONGLE_TIMEOUT',
          'The node did not answer in time; is it connected over WebSocket?',
        );
      }
      const { outcome } = reply;
      if (outcome.ok) {
        if (outcome.result.op !== request.op)
          throw new ApiError(502, 'INTERNAL_ERROR', 'The node answered another request');
        return outcome.result as Extract<DongleResult, { op: O['op'] }>;
      }
      switch (outcome.code) {
        case 'DONGLE_TIMEOUT':
          throw new ApiError(504, 'DONGLE_TIMEOUT', 'The dongle did not answer its node in time', {
            reason: outcome.code,
          });
        case 'DONGLE_UNKNOWN':
        case 'DISCOVERY_OFF':
          throw new ApiError(409, 'AGENT_OFFLINE', 'None of your nodes reaches this dongle right now', {
            reason: outcome.code,
          });
        default:
          throw new ApiError(502, 'INTERNAL_ERROR', 'The node could not carry out the request', {
            reason: outcome.code,
          });
      }
    } finally {
      clearTimeout(timer);
      await unsubscribe();
    }
  }

  /** A node's answer, as the gateway holding its connection received it. */
  async answer(agentId: string, message: DongleResponseMessage): Promise<void> {
    const reply: Reply = { agent_id: agentId, outcome: message.outcome };
    await this.deps.engine.publish(replyChannel(message.request_id), JSON.stringify(reply));
  }
}
