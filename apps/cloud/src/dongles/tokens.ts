import { eq } from 'drizzle-orm';
import type { Db } from '../db/client';
import { type dongles, dongleTokens } from '../db/schema';
import { ApiError } from '../http/errors';
import type { TokenOpener } from './console';
import type { SecurityHolds } from './holds';

/**
 * A paired dongle's token, opened for one node that needs it now (a command, a CAN config, the data plane).
 * Every hand-over counts towards SECURITY_HOLD trigger 3b; past its limit the dongle is held and the token
 * is not handed over.
 */
export class DongleTokens {
  constructor(
    private readonly deps: { db: Db; keys: TokenOpener; holds: Pick<SecurityHolds, 'tokenHandedTo'> },
  ) {}

  async forAgent(row: typeof dongles.$inferSelect, agentId: string): Promise<string> {
    if (row.ownershipState !== 'CLAIMED_ACTIVE') {
      throw new ApiError(409, 'CONFLICT', `The dongle is ${row.ownershipState}; it needs attention first`, {
        ownership_state: row.ownershipState,
      });
    }
    const [sealed] = await this.deps.db
      .select()
      .from(dongleTokens)
      .where(eq(dongleTokens.dongleId, row.id))
      .limit(1);
    if (!sealed) throw new ApiError(409, 'CONFLICT', 'This dongle has no token; pair it again');
    if (!(await this.deps.holds.tokenHandedTo(row, agentId))) {
      throw new ApiError(409, 'PAIRING_SECURITY_HOLD', 'Security hold — contact support', {
        ownership_state: 'SECURITY_HOLD',
      });
    }
    return this.deps.keys
      .open(sealed, { dongleId: row.id, userId: sealed.userId, createdAt: sealed.createdAt })
      .toString('base64');
  }
}
