import { eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hashSecret } from '../src/accounts/secrets';
import { sessions, users } from '../src/db/schema';
import { RedisEngine } from '../src/engine';
import { backends, TEST_REDIS_URL } from './backends';
import { Client, startTestCloud, type TestCloud } from './harness';

const PASSWORD = 'correct horse battery';
let n = 0;
const freshEmail = () => `user${++n}-${Date.now()}@example.com`;

describe.each(await backends())('accounts on $name', (backend) => {
  let cloud: TestCloud;
  const client = (ip?: string) => new Client(cloud.baseUrl, ip ? { 'x-forwarded-for': ip } : {});

  beforeAll(async () => {
    cloud = await startTestCloud(backend, { RATE_LIMIT_SIGNUP_MAX: '1000', SESSION_TTL_HOURS: '2' });
  });
  afterAll(() => cloud?.stop());

  it('signs up, is logged in with an HttpOnly SameSite=Lax cookie, logs out and back in', async () => {
    const c = client();
    const email = freshEmail();
    const signup = await c.signup(email.toUpperCase(), PASSWORD);
    expect(signup.status).toBe(201);
    expect(signup.body.user).toMatchObject({ email, role: 'user', email_verified: false });
    const cookie = signup.headers.getSetCookie().find((s) => s.startsWith('canopy_session='));
    expect(cookie).toMatch(/HttpOnly/i);
    expect(cookie).toMatch(/SameSite=Lax/i);
    expect(cookie).not.toMatch(/Secure/i);
    expect((await c.get('/api/v1/auth/me')).body.user.email).toBe(email);

    expect((await c.post('/api/v1/auth/logout')).status).toBe(204);
    expect((await c.get('/api/v1/auth/me')).body.code).toBe('AUTH_REQUIRED');

    const login = await c.login(email, PASSWORD);
    expect(login.status).toBe(200);
    expect(login.body.user.email).toBe(email);
    expect((await c.get('/api/v1/auth/me')).status).toBe(200);
  });

  it('marks the cookie Secure when served over HTTPS (behind a proxy)', async () => {
    const c = new Client(cloud.baseUrl, { 'x-forwarded-proto': 'https' });
    const reply = await c.signup(freshEmail(), PASSWORD);
    expect(reply.headers.getSetCookie().find((s) => s.startsWith('canopy_session='))).toMatch(/Secure/);
  });

  it('refuses a duplicate email with AUTH_EMAIL_TAKEN', async () => {
    const email = freshEmail();
    await client().signup(email, PASSWORD);
    const again = await client().signup(email, 'another password 123');
    expect(again.status).toBe(409);
    expect(again.body.code).toBe('AUTH_EMAIL_TAKEN');
  });

  it('stores an Argon2id hash and a hashed session id, never the password or the cookie token', async () => {
    const c = client();
    const email = freshEmail();
    await c.signup(email, PASSWORD);
    const [row] = await cloud.database.db.select().from(users).where(eq(users.email, email));
    expect(row?.passwordHash).toMatch(/^\$argon2id\$v=19\$m=19456,t=2,p=1\$/);
    expect(row?.passwordHash).not.toContain(PASSWORD);
    const token = c.cookies.get('canopy_session') ?? '';
    const stored = await cloud.database.db
      .select()
      .from(sessions)
      .where(eq(sessions.userId, row?.id ?? ''));
    expect(stored.map((s) => s.id)).toContain(hashSecret(token));
    expect(stored.map((s) => s.id)).not.toContain(token);
    expect(cloud.logs.text()).not.toContain(PASSWORD);
    expect(cloud.logs.text()).not.toContain(token);
  });

  describe('CSRF', () => {
    it('refuses a POST without a CSRF token with 403 CSRF_INVALID', async () => {
      const reply = await client().post(
        '/api/v1/auth/login',
        { email: 'a@example.com', password: PASSWORD },
        {
          csrf: false,
        },
      );
      expect(reply.status).toBe(403);
      expect(reply.body.code).toBe('CSRF_INVALID');
    });

    it("refuses another session's token", async () => {
      const alice = client();
      const mallory = client();
      await alice.signup(freshEmail(), PASSWORD);
      await mallory.signup(freshEmail(), PASSWORD);
      const reply = await alice.request('POST', '/api/v1/auth/logout', {
        headers: { 'x-csrf-token': await mallory.csrfToken() },
      });
      expect(reply.status).toBe(403);
      expect(reply.body.code).toBe('CSRF_INVALID');
      expect((await alice.get('/api/v1/auth/me')).status).toBe(200);
    });

    it('binds the token to the session: the pre-login token stops working after login', async () => {
      const c = client();
      const email = freshEmail();
      await c.signup(email, PASSWORD);
      await c.post('/api/v1/auth/logout');
      const before = await c.csrfToken();
      await c.login(email, PASSWORD);
      const stale = await c.request('POST', '/api/v1/auth/logout', { headers: { 'x-csrf-token': before } });
      expect(stale.body.code).toBe('CSRF_INVALID');
      c.forgetCsrf();
      expect((await c.post('/api/v1/auth/logout')).status).toBe(204);
    });
  });

  describe('login rate limits', () => {
    it('answers the 11th bad login within 10 minutes with 429 and Retry-After, even with the right password', async () => {
      const email = freshEmail();
      await client().signup(email, PASSWORD);
      const c = client('10.1.0.1');
      for (let i = 1; i <= 10; i++) {
        const reply = await c.login(email, `wrong password ${i}`);
        expect(reply.status, `attempt ${i}`).toBe(401);
        expect(reply.body.code).toBe('AUTH_INVALID_CREDENTIALS');
      }
      const eleventh = await c.login(email, PASSWORD);
      expect(eleventh.status).toBe(429);
      expect(eleventh.body.code).toBe('RATE_LIMITED');
      const retryAfter = Number(eleventh.headers.get('retry-after'));
      expect(retryAfter).toBeGreaterThan(500);
      expect(retryAfter).toBeLessThanOrEqual(600);
      expect(eleventh.body.details.retry_after_s).toBe(retryAfter);
    });

    it('limits per account across IPs', async () => {
      const email = freshEmail();
      await client().signup(email, PASSWORD);
      for (let i = 1; i <= 10; i++)
        expect((await client(`10.2.0.${i}`).login(email, 'wrong password!')).status).toBe(401);
      expect((await client('10.2.1.1').login(email, PASSWORD)).status).toBe(429);
      // Another account from a fresh IP is unaffected.
      const other = freshEmail();
      await client().signup(other, PASSWORD);
      expect((await client('10.2.1.2').login(other, PASSWORD)).status).toBe(200);
    });

    it('limits per IP across accounts', async () => {
      const c = client('10.3.0.1');
      for (let i = 1; i <= 10; i++)
        expect((await c.login(`ghost${i}@example.com`, 'wrong password!')).status).toBe(401);
      const email = freshEmail();
      await client().signup(email, PASSWORD);
      expect((await c.login(email, PASSWORD)).status).toBe(429);
      expect((await client('10.3.0.2').login(email, PASSWORD)).status).toBe(200);
    });

    it('audits failed logins sampled: the first failure and the lock-out', async () => {
      const email = freshEmail();
      await client().signup(email, PASSWORD);
      const c = client('10.4.0.1');
      for (let i = 0; i < 10; i++) await c.login(email, 'wrong password!');
      const rows = await cloud.database.db.query.auditLogs.findMany({
        where: (a, { and, like, sql }) =>
          and(like(a.action, 'auth.login_%'), sql`${a.details}->>'email' = ${email}`),
      });
      expect(rows.map((r) => r.action).sort()).toEqual(['auth.login_failed', 'auth.login_locked']);
      expect(rows.find((r) => r.action === 'auth.login_locked')?.details).toMatchObject({
        failures_in_window: 10,
      });
      expect(rows.every((r) => r.ip === '10.4.0.1')).toBe(true);
      expect(JSON.stringify(rows)).not.toContain('wrong password');
    });
  });

  it.runIf(backend.name === 'postgres+redis')(
    'shares login limits between instances through Redis',
    async () => {
      // A second instance on the same PostgreSQL, with its own Redis connection under the same key prefix.
      const redis = await RedisEngine.connect(TEST_REDIS_URL, {
        prefix: (cloud.engine as RedisEngine).prefix,
      });
      const second = await startTestCloud(backend, {}, { database: cloud.database, engine: redis });
      try {
        const email = freshEmail();
        await client().signup(email, PASSWORD);
        for (let i = 0; i < 5; i++)
          expect((await client('10.5.0.1').login(email, 'wrong password!')).status).toBe(401);
        const other = (ip: string) => new Client(second.baseUrl, { 'x-forwarded-for': ip });
        for (let i = 0; i < 5; i++)
          expect((await other('10.5.0.2').login(email, 'wrong password!')).status).toBe(401);
        expect((await other('10.5.0.3').login(email, PASSWORD)).status).toBe(429);
        expect((await client('10.5.0.4').login(email, PASSWORD)).status).toBe(429);
      } finally {
        await second.stop();
        await redis.close();
      }
    },
  );

  it('answers the 6th signup in an hour from one IP with 429', async () => {
    const strict = await startTestCloud(backend, { RATE_LIMIT_SIGNUP_MAX: '5' });
    try {
      const c = new Client(strict.baseUrl);
      for (let i = 0; i < 5; i++) expect((await c.signup(freshEmail(), PASSWORD)).status).toBe(201);
      const sixth = await c.signup(freshEmail(), PASSWORD);
      expect(sixth.status).toBe(429);
      expect(Number(sixth.headers.get('retry-after'))).toBeGreaterThan(3000);
    } finally {
      await strict.stop();
    }
  });

  it('expires an idle session after the TTL with AUTH_SESSION_EXPIRED, and extends an active one', async () => {
    const idle = client();
    const active = client();
    await idle.signup(freshEmail(), PASSWORD);
    await active.signup(freshEmail(), PASSWORD);
    cloud.clock.offsetMs = 70 * 60_000; // past half of the 2 h TTL: an active session is extended
    expect((await active.get('/api/v1/auth/me')).status).toBe(200);
    cloud.clock.offsetMs = 125 * 60_000; // past the idle session's end
    try {
      const reply = await idle.get('/api/v1/auth/me');
      expect(reply.status).toBe(401);
      expect(reply.body.code).toBe('AUTH_SESSION_EXPIRED');
      expect((await idle.get('/api/v1/auth/me')).body.code).toBe('AUTH_REQUIRED');
      expect((await active.get('/api/v1/auth/me')).status).toBe(200);
    } finally {
      cloud.clock.offsetMs = 0;
    }
  });
});
