import { randomBytes, randomUUID } from 'node:crypto';
import { and, eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { auditLogs, dongles } from '../src/db/schema';
import { MAX_TOKEN_AGENTS_PER_HOUR, SecurityHolds } from '../src/dongles/holds';
import { createLogger } from '../src/log';
import { backends } from './backends';
import { Client, startTestCloud, type TestCloud } from './harness';

// SECURITY_HOLD triggers 3b and 4 (spec 002 §11.3) against each backend's database and stream engine: the
// counting, the hold and its audit entry. The end-to-end paths (a token handed out by the console, a report
// from a real node about a real simulator) are in apps/node/test/pairing.e2e.test.ts.
describe.each(await backends())('security holds on $name', (backend) => {
  let cloud: TestCloud;
  let holds: SecurityHolds;
  let ownerId: string;

  async function claimedDongle(state: 'CLAIMED_ACTIVE' | 'UNCLAIMED' = 'CLAIMED_ACTIVE') {
    const [row] = await cloud.database.db
      .insert(dongles)
      .values({
        deviceId: randomBytes(8).toString('hex'),
        ownershipState: state,
        ownerUserId: state === 'UNCLAIMED' ? null : ownerId,
      })
      .returning();
    if (!row) throw new Error('no dongle row');
    return row;
  }
  const stateOf = async (id: string) =>
    (await cloud.database.db.select().from(dongles).where(eq(dongles.id, id)))[0]?.ownershipState;
  const holdsOf = (id: string) =>
    cloud.database.db
      .select()
      .from(auditLogs)
      .where(and(eq(auditLogs.targetId, id), eq(auditLogs.action, 'dongle.security_hold_entered')));

  beforeAll(async () => {
    cloud = await startTestCloud(backend);
    const alice = new Client(cloud.baseUrl);
    await alice.signup('alice@example.com');
    ownerId = (await alice.get('/api/v1/auth/me')).body.user.id;
    holds = new SecurityHolds({
      db: cloud.database.db,
      engine: cloud.engine,
      log: createLogger('silent'),
      now: () => new Date(),
    });
  });
  afterAll(async () => {
    await cloud?.stop();
  });

  it(`holds a dongle whose token goes to more than ${MAX_TOKEN_AGENTS_PER_HOUR} distinct nodes in an hour`, async () => {
    const row = await claimedDongle();
    const agents = Array.from({ length: MAX_TOKEN_AGENTS_PER_HOUR + 1 }, () => randomUUID());
    for (const agent of agents.slice(0, MAX_TOKEN_AGENTS_PER_HOUR)) {
      // The same node again and again is one node.
      for (let i = 0; i < 3; i++) expect(await holds.tokenHandedTo(row, agent)).toBe(true);
    }
    expect(await stateOf(row.id)).toBe('CLAIMED_ACTIVE');
    expect(await holds.tokenHandedTo(row, agents[MAX_TOKEN_AGENTS_PER_HOUR] as string)).toBe(false);
    expect(await stateOf(row.id)).toBe('SECURITY_HOLD');
    const [entry] = await holdsOf(row.id);
    expect(entry?.actorUserId).toBeNull();
    expect(entry?.details).toMatchObject({
      distinct_agents: MAX_TOKEN_AGENTS_PER_HOUR + 1,
      agent_id: agents[MAX_TOKEN_AGENTS_PER_HOUR],
      before: { ownership_state: 'CLAIMED_ACTIVE' },
      after: { ownership_state: 'SECURITY_HOLD' },
    });
  });

  it('starts the count over once the hold is cleared', async () => {
    const row = await claimedDongle();
    for (let i = 0; i < MAX_TOKEN_AGENTS_PER_HOUR; i++) await holds.tokenHandedTo(row, randomUUID());
    await holds.forgetCounts(row.id);
    expect(await holds.tokenHandedTo(row, randomUUID())).toBe(true);
    expect(await stateOf(row.id)).toBe('CLAIMED_ACTIVE');
  });

  it('holds a claimed dongle past 20 rejected tokens a minute from one address; logs it for an unclaimed one', async () => {
    const claimed = await claimedDongle();
    const calm = await claimedDongle();
    const unclaimed = await claimedDongle('UNCLAIMED');
    const seen = (deviceId: string, perMinute: number) => ({
      device_id: deviceId,
      lan_ip: '192.168.1.23',
      udp_port: 51000,
      fw_build: null,
      proto_ver: 1,
      capabilities: 7,
      pairing_state: 'normal' as const,
      interface: 'eth0',
      online: true,
      last_seen_at: new Date().toISOString(),
      auth_failures: { lan_ip: '192.168.1.66', per_minute: perMinute },
    });
    await holds.checkAuthFailures(
      { id: randomUUID() },
      {
        dongles: [seen(claimed.deviceId, 21), seen(calm.deviceId, 20), seen(unclaimed.deviceId, 500)],
      },
    );
    expect(await stateOf(claimed.id)).toBe('SECURITY_HOLD');
    expect(await stateOf(calm.id)).toBe('CLAIMED_ACTIVE');
    expect(await stateOf(unclaimed.id)).toBe('UNCLAIMED');
    expect((await holdsOf(claimed.id))[0]?.details).toMatchObject({
      lan_ip: '192.168.1.66',
      failures_per_minute: 21,
    });
    // Reported again while held: no second hold entry.
    await holds.checkAuthFailures({ id: randomUUID() }, { dongles: [seen(claimed.deviceId, 40)] });
    expect(await holdsOf(claimed.id)).toHaveLength(1);
  });
});
