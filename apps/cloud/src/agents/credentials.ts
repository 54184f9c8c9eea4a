import { AGENT_TOKEN_PREFIX, ENROLLMENT_KEY_PREFIX, SESSION_TOKEN_PREFIX } from '@canopy/protocol';
import { and, eq, isNull, lt } from 'drizzle-orm';
import { hashSecret, newSecret } from '../accounts/secrets';
import type { Db } from '../db/client';
import { agents, agentTokens, enrollmentKeys, users } from '../db/schema';
import { ApiError } from '../http/errors';

export type AgentRow = typeof agents.$inferSelect;

/** Node credentials are prefixed random secrets (recognisable in a leak scan); only hashes are stored. */
const prefixed = (prefix: string) => `${prefix}${newSecret()}`;

export async function createEnrollmentKey(db: Db, userId: string, label: string | undefined) {
  const secret = prefixed(ENROLLMENT_KEY_PREFIX);
  const [row] = await db
    .insert(enrollmentKeys)
    .values({
      userId,
      label: label || null,
      prefix: secret.slice(0, ENROLLMENT_KEY_PREFIX.length + 6),
      keyHash: hashSecret(secret),
    })
    .returning();
  if (!row) throw new Error('insert returned no row');
  return { row, secret };
}

/**
 * Nodes of a disabled account are refused, whatever they present, until an admin enables it again; their
 * credentials are kept (not AGENT_TOKEN_INVALID, which makes canopy-node wait for re-enrollment).
 */
const accountDisabled = (of: 'node' | 'enrollment key') =>
  new ApiError(
    403,
    'AUTH_USER_DISABLED',
    `The account this ${of} belongs to is disabled; an administrator can enable it again`,
  );

/** An enrollment key serves for any number of nodes until it is revoked, while its user's account is active. */
export async function findEnrollmentKey(db: Db, secret: string, now: Date) {
  const [found] = await db
    .select({ id: enrollmentKeys.id, status: users.status })
    .from(enrollmentKeys)
    .innerJoin(users, eq(users.id, enrollmentKeys.userId))
    .where(and(eq(enrollmentKeys.keyHash, hashSecret(secret)), isNull(enrollmentKeys.revokedAt)))
    .limit(1);
  if (!found) {
    throw new ApiError(401, 'ENROLLMENT_KEY_INVALID', 'This enrollment key is unknown or was revoked');
  }
  if (found.status !== 'active') throw accountDisabled('enrollment key');
  const [row] = await db
    .update(enrollmentKeys)
    .set({ lastUsedAt: now })
    .where(and(eq(enrollmentKeys.id, found.id), isNull(enrollmentKeys.revokedAt)))
    .returning();
  if (!row) {
    throw new ApiError(401, 'ENROLLMENT_KEY_INVALID', 'This enrollment key is unknown or was revoked');
  }
  return row;
}

export async function issueAgentToken(db: Db, agentId: string): Promise<string> {
  const token = prefixed(AGENT_TOKEN_PREFIX);
  await db.insert(agentTokens).values({ agentId, kind: 'agent', tokenHash: hashSecret(token) });
  return token;
}

/** A new session token, its hash (what is stored) and its expiry. */
export function newSessionSecret(now: Date, ttlMs: number) {
  const token = prefixed(SESSION_TOKEN_PREFIX);
  return { token, tokenHash: hashSecret(token), expiresAt: new Date(now.getTime() + ttlMs) };
}

export async function issueSessionToken(db: Db, agentId: string, ttlMs: number, now: Date) {
  const { token, tokenHash, expiresAt } = newSessionSecret(now, ttlMs);
  await db.insert(agentTokens).values({ agentId, kind: 'session', tokenHash, expiresAt });
  return { token, expiresAt };
}

/**
 * Finds the agent behind a bearer token of the expected kind. Unknown or revoked → AGENT_TOKEN_INVALID (the
 * node must re-enroll); its user's account disabled → AUTH_USER_DISABLED (the node retries with backoff); an
 * expired session token → AGENT_TOKEN_EXPIRED (the node refreshes).
 */
export async function authenticateAgent(
  db: Db,
  token: string,
  kind: 'agent' | 'session',
  now: Date,
): Promise<AgentRow> {
  const expectedPrefix = kind === 'agent' ? AGENT_TOKEN_PREFIX : SESSION_TOKEN_PREFIX;
  const invalid = () =>
    new ApiError(401, 'AGENT_TOKEN_INVALID', `This ${kind} token is unknown or was revoked`, { kind });
  if (!token.startsWith(expectedPrefix)) throw invalid();
  const [row] = await db
    .select({ token: agentTokens, agent: agents, userStatus: users.status })
    .from(agentTokens)
    .innerJoin(agents, eq(agents.id, agentTokens.agentId))
    .innerJoin(users, eq(users.id, agents.userId))
    .where(and(eq(agentTokens.tokenHash, hashSecret(token)), eq(agentTokens.kind, kind)))
    .limit(1);
  if (!row || row.token.revokedAt || row.agent.removedAt) throw invalid();
  if (row.userStatus !== 'active') throw accountDisabled('node');
  if (row.token.expiresAt && row.token.expiresAt <= now) {
    throw new ApiError(401, 'AGENT_TOKEN_EXPIRED', 'The session token has expired; refresh it', { kind });
  }
  return row.agent;
}

export async function revokeAgentTokens(db: Db, agentId: string, now: Date): Promise<void> {
  await db
    .update(agentTokens)
    .set({ revokedAt: now })
    .where(and(eq(agentTokens.agentId, agentId), isNull(agentTokens.revokedAt)));
}

/** Expired session tokens are useless; delete them (run periodically). */
export async function sweepSessionTokens(db: Db, now: Date): Promise<void> {
  await db.delete(agentTokens).where(and(eq(agentTokens.kind, 'session'), lt(agentTokens.expiresAt, now)));
}
