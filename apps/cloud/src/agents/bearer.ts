import type { IncomingMessage } from 'node:http';
import { FINGERPRINT_HEADER } from '@canopy/protocol';
import type { Db } from '../db/client';
import { ApiError } from '../http/errors';
import { type AgentRow, authenticateAgent } from './credentials';

/**
 * Authenticates a node's request: `Authorization: Bearer <token>` of the expected kind, and the fingerprint
 * the node registered with (a copied token used from another machine is refused).
 */
export async function authenticateRequest(
  db: Db,
  req: IncomingMessage,
  kind: 'agent' | 'session',
  now: Date,
): Promise<AgentRow> {
  const match = /^Bearer (\S+)$/i.exec(req.headers.authorization ?? '');
  if (!match?.[1]) {
    throw new ApiError(
      401,
      'AGENT_TOKEN_INVALID',
      `Send the ${kind} token as "Authorization: Bearer <token>"`,
      { kind },
    );
  }
  const agent = await authenticateAgent(db, match[1], kind, now);
  if (req.headers[FINGERPRINT_HEADER] !== agent.fingerprint) {
    throw new ApiError(401, 'AGENT_FINGERPRINT_MISMATCH', 'This token belongs to another machine', {
      header: FINGERPRINT_HEADER,
    });
  }
  return agent;
}
