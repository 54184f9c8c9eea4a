import { z } from 'zod';
import type { StreamEngine, Unsubscribe } from '../engine';

/*
 * A user's status change, announced on the engine once it is committed, so that every cloud instance acts on
 * it: a disabled user's node connections close there (the agent gateway, the relay's data connections) and the
 * relay reassigns what it bridges. Ids only; nothing secret.
 */

const USER_STATUS_CHANNEL = 'users:status';

export const UserStatusChange = z.object({
  user_id: z.string(),
  status: z.enum(['active', 'disabled']),
});
export type UserStatusChange = z.infer<typeof UserStatusChange>;

/**
 * How a node's WebSocket (/ws/agent, /ws/data) closes when its account is disabled: 1008, policy violation
 * (RFC 6455 §7.4.1). Not AgentCloseCode.REVOKED, which tells canopy-node to drop its credential and wait for
 * re-enrollment: the node reconnects with backoff, is refused with 403 AUTH_USER_DISABLED until the account is
 * enabled again, and then connects with the same token.
 */
export const ACCOUNT_DISABLED_CLOSE = 1008;

export function announceUserStatus(engine: StreamEngine, change: UserStatusChange): Promise<void> {
  return engine.publish(USER_STATUS_CHANNEL, JSON.stringify(change));
}

/** Calls `handler` with every change announced from now on, from any instance; a malformed one is dropped. */
export function listenUserStatus(
  engine: StreamEngine,
  handler: (change: UserStatusChange) => void,
): Promise<Unsubscribe> {
  return engine.subscribe(USER_STATUS_CHANNEL, (message) => {
    let parsed: unknown;
    try {
      parsed = JSON.parse(message);
    } catch {
      return;
    }
    const change = UserStatusChange.safeParse(parsed);
    if (change.success) handler(change.data);
  });
}
