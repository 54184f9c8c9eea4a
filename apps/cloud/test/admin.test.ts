import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { backends } from './backends';
import { Client, startTestCloud, type TestCloud } from './harness';

const PASSWORD = 'correct horse battery';

describe.each(await backends())('admin on $name', (backend) => {
  let cloud: TestCloud;
  let admin: Client;
  let adminId: string;

  beforeAll(async () => {
    cloud = await startTestCloud(backend);
    const created = await cloud.accounts.createAdmin('root@example.com', PASSWORD, {
      actorUserId: null,
      ip: null,
      userAgent: 'test',
    });
    adminId = created.user.id;
    admin = new Client(cloud.baseUrl);
    expect((await admin.login('root@example.com', PASSWORD)).body.user.role).toBe('super_admin');
  });
  afterAll(() => cloud?.stop());

  it('refuses admin routes to a plain user with 403 and to nobody with 401', async () => {
    const plain = new Client(cloud.baseUrl);
    await plain.signup('plain@example.com', PASSWORD);
    for (const reply of [
      await plain.get('/api/v1/admin/users'),
      await plain.get('/api/v1/admin/audit-logs'),
      await plain.post(`/api/v1/admin/users/${adminId}/disable`),
    ]) {
      expect(reply.status).toBe(403);
      expect(reply.body.code).toBe('FORBIDDEN');
    }
    expect((await new Client(cloud.baseUrl).get('/api/v1/admin/users')).body.code).toBe('AUTH_REQUIRED');
  });

  it('disables a user: their sessions end, they cannot log in; enabling lets them back', async () => {
    const victim = new Client(cloud.baseUrl);
    const { body } = await victim.signup('victim@example.com', PASSWORD);
    const disable = await admin.post(`/api/v1/admin/users/${body.user.id}/disable`);
    expect(disable.status).toBe(200);
    expect(disable.body.user.status).toBe('disabled');
    expect((await victim.get('/api/v1/auth/me')).status).toBe(401);
    const login = await new Client(cloud.baseUrl).login('victim@example.com', PASSWORD);
    expect(login.status).toBe(403);
    expect(login.body.code).toBe('AUTH_USER_DISABLED');
    // The wrong password does not reveal that the account is disabled.
    expect((await new Client(cloud.baseUrl).login('victim@example.com', 'wrong password')).body.code).toBe(
      'AUTH_INVALID_CREDENTIALS',
    );

    expect((await admin.post(`/api/v1/admin/users/${body.user.id}/enable`)).body.user.status).toBe('active');
    expect((await new Client(cloud.baseUrl).login('victim@example.com', PASSWORD)).status).toBe(200);

    const audit = await admin.get(`/api/v1/admin/audit-logs?target=${body.user.id}&action=admin`);
    expect(audit.body.entries.map((e: { action: string }) => e.action)).toEqual([
      'admin.user_enabled',
      'admin.user_disabled',
    ]);
    const disabled = audit.body.entries[1];
    expect(disabled).toMatchObject({
      actor_user_id: adminId,
      actor_email: 'root@example.com',
      target_type: 'user',
      target_id: body.user.id,
      ip: expect.any(String),
      user_agent: expect.any(String),
      details: { before: { status: 'active' }, after: { status: 'disabled' } },
    });
  });

  it('will not let an admin disable themself', async () => {
    const reply = await admin.post(`/api/v1/admin/users/${adminId}/disable`);
    expect(reply.status).toBe(409);
    expect(reply.body.code).toBe('CONFLICT');
  });

  it('answers a bad or unknown user id clearly', async () => {
    expect((await admin.post('/api/v1/admin/users/not-a-uuid/disable')).body.code).toBe('VALIDATION_ERROR');
    const missing = await admin.post('/api/v1/admin/users/00000000-0000-4000-8000-000000000000/disable');
    expect(missing.status).toBe(404);
    expect(missing.body.code).toBe('NOT_FOUND');
  });

  it('lists users page by page and searches by email', async () => {
    for (let i = 0; i < 5; i++) await new Client(cloud.baseUrl).signup(`pager${i}@example.com`, PASSWORD);
    const seen: string[] = [];
    let cursor: string | null = null;
    let pages = 0;
    do {
      const reply = await admin.get(
        `/api/v1/admin/users?limit=2&q=pager${cursor ? `&cursor=${cursor}` : ''}`,
      );
      expect(reply.status).toBe(200);
      seen.push(...reply.body.users.map((u: { email: string }) => u.email));
      cursor = reply.body.next_cursor;
      pages++;
    } while (cursor && pages < 10);
    expect(pages).toBe(3);
    expect(seen.sort()).toEqual([0, 1, 2, 3, 4].map((i) => `pager${i}@example.com`));
    expect((await admin.get('/api/v1/admin/users?cursor=garbage')).body.code).toBe('VALIDATION_ERROR');
    expect((await admin.get('/api/v1/admin/users?limit=5000')).body.code).toBe('VALIDATION_ERROR');
  });

  it('filters the audit log by action, actor and target', async () => {
    const bySignup = await admin.get('/api/v1/admin/audit-logs?action=auth.signup&limit=200');
    expect(bySignup.body.entries.length).toBeGreaterThanOrEqual(7);
    expect(bySignup.body.entries.every((e: { action: string }) => e.action === 'auth.signup')).toBe(true);
    const byActor = await admin.get('/api/v1/admin/audit-logs?actor=root@example.com');
    expect(byActor.body.entries.length).toBeGreaterThan(0);
    expect(
      byActor.body.entries.every((e: { actor_email: string }) => e.actor_email === 'root@example.com'),
    ).toBe(true);
    const page1 = await admin.get('/api/v1/admin/audit-logs?limit=3');
    const page2 = await admin.get(`/api/v1/admin/audit-logs?limit=3&cursor=${page1.body.next_cursor}`);
    const ids = [...page1.body.entries, ...page2.body.entries].map((e: { id: string }) => e.id);
    expect(new Set(ids).size).toBe(6);
  });
});
