import { randomBytes } from 'node:crypto';
import { and, eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { auditLogs, dongles, dongleTokens } from '../src/db/schema';
import { DongleConsole } from '../src/dongles/console';
import { DongleService } from '../src/dongles/service';
import { createLogger } from '../src/log';
import { backends } from './backends';
import { Client, startTestCloud, type TestCloud } from './harness';

// A relaying node says a grouped dongle rejected its token: reset (pair it again), unless it was paired again
// after the relay opened that token.
describe.each(await backends())('a dongle that rejects the relay’s token, on $name', (backend) => {
  let cloud: TestCloud;
  let dongleConsole: DongleConsole;
  let ownerId: string;

  beforeAll(async () => {
    cloud = await startTestCloud(backend);
    const owner = new Client(cloud.baseUrl);
    await owner.signup('reset@example.com');
    ownerId = (await owner.get('/api/v1/auth/me')).body.user.id as string;
    const db = cloud.database.db;
    const log = createLogger('silent');
    const now = () => new Date();
    const service = new DongleService({
      db,
      engine: cloud.engine,
      log,
      now,
      agentIdleTimeoutMs: 60_000,
      askToScan: async () => {},
    });
    dongleConsole = new DongleConsole({ db, log, now, dongles: service } as ConstructorParameters<
      typeof DongleConsole
    >[0]);
  });
  afterAll(async () => {
    await cloud?.stop();
  });

  async function pairedDongle(tokenCreatedAt: Date) {
    const db = cloud.database.db;
    const [row] = await db
      .insert(dongles)
      .values({
        deviceId: randomBytes(8).toString('hex'),
        ownerUserId: ownerId,
        ownershipState: 'CLAIMED_ACTIVE',
      })
      .returning();
    if (!row) throw new Error('no dongle row');
    const sealed = cloud.keyring.seal(randomBytes(32), {
      dongleId: row.id,
      userId: ownerId,
      createdAt: tokenCreatedAt,
    });
    await db
      .insert(dongleTokens)
      .values({ dongleId: row.id, userId: ownerId, createdAt: tokenCreatedAt, ...sealed });
    return row.id;
  }
  const stateOf = async (id: string) =>
    (await cloud.database.db.select().from(dongles).where(eq(dongles.id, id)))[0]?.ownershipState;
  const audits = async (id: string) =>
    cloud.database.db
      .select()
      .from(auditLogs)
      .where(and(eq(auditLogs.targetId, id), eq(auditLogs.action, 'dongle.reset_detected')));

  it('marks the dongle RESET_DETECTED, audited, when its token is the one the relay gave', async () => {
    const paired = new Date(Date.now() - 60_000);
    const id = await pairedDongle(paired);
    await dongleConsole.relayTokenRejected(id, new Date(paired.getTime() + 1000));
    expect(await stateOf(id)).toBe('RESET_DETECTED');
    const [entry] = await audits(id);
    expect(entry?.details).toMatchObject({ after: { ownership_state: 'RESET_DETECTED' } });
    // Said again (another node, a later reconnect): nothing more happens.
    await dongleConsole.relayTokenRejected(id, new Date());
    expect(await audits(id)).toHaveLength(1);
  });

  it('leaves a dongle alone that was paired again after the relay opened its old token', async () => {
    const id = await pairedDongle(new Date());
    await dongleConsole.relayTokenRejected(id, new Date(Date.now() - 30_000));
    expect(await stateOf(id)).toBe('CLAIMED_ACTIVE');
    expect(await audits(id)).toHaveLength(0);
  });
});
