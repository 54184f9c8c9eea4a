import type { AddressInfo } from 'node:net';
import { eq } from 'drizzle-orm';
import { SMTPServer } from 'smtp-server';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { emailOutbox } from '../src/db/schema';
import { backends } from './backends';
import { Client, mailCount, readMail, startTestCloud, type TestCloud } from './harness';

const PASSWORD = 'correct horse battery';
let n = 0;
const freshEmail = () => `mail${++n}-${Date.now()}@example.com`;

describe.each(await backends())(
  'email verification and password reset on $name (dev mail sink)',
  (backend) => {
    let cloud: TestCloud;
    const client = () => new Client(cloud.baseUrl);

    beforeAll(async () => {
      cloud = await startTestCloud(backend);
    });
    afterAll(() => cloud?.stop());

    it('verifies the email from the link in the mail, once', async () => {
      const c = client();
      const email = freshEmail();
      await c.signup(email, PASSWORD);
      await cloud.flushMail();
      const mail = readMail(cloud.dataDir, email);
      expect(mail.link.startsWith('http://canopy.test/verify-email#token=')).toBe(true);

      expect((await client().post('/api/v1/auth/verify-email', { token: mail.token })).status).toBe(204);
      expect((await c.get('/api/v1/auth/me')).body.user.email_verified).toBe(true);
      const again = await client().post('/api/v1/auth/verify-email', { token: mail.token });
      expect(again.status).toBe(400);
      expect(again.body.code).toBe('AUTH_TOKEN_INVALID');
    });

    it('resends the verification mail on request', async () => {
      const c = client();
      const email = freshEmail();
      await c.signup(email, PASSWORD);
      expect((await c.post('/api/v1/auth/verify-email/resend')).status).toBe(202);
      await cloud.flushMail();
      expect(mailCount(cloud.dataDir, email)).toBe(2);
    });

    it('keeps mail links out of the log and redacts them in the outbox once sent', async () => {
      const email = freshEmail();
      await client().signup(email, PASSWORD);
      await cloud.flushMail();
      const { token } = readMail(cloud.dataDir, email);
      expect(cloud.logs.text()).not.toContain(token);
      const rows = await cloud.database.db.select().from(emailOutbox).where(eq(emailOutbox.toEmail, email));
      expect(rows).toHaveLength(1);
      expect(rows[0]?.status).toBe('sent');
      expect(JSON.stringify(rows[0]?.payload)).not.toContain(token);
    });

    it('resets a password with the mailed link: old password and old sessions stop working', async () => {
      const email = freshEmail();
      const oldSession = client();
      await oldSession.signup(email, PASSWORD);
      const reply = await client().post('/api/v1/auth/password-reset/request', { email });
      expect(reply.status).toBe(202);
      await cloud.flushMail();
      const mail = readMail(cloud.dataDir, email);
      expect(mail.link).toContain('/reset-password#token=');

      const confirm = await client().post('/api/v1/auth/password-reset/confirm', {
        token: mail.token,
        password: 'a brand new passphrase',
      });
      expect(confirm.status).toBe(204);
      expect((await oldSession.get('/api/v1/auth/me')).status).toBe(401);
      expect((await client().login(email, PASSWORD)).status).toBe(401);
      expect((await client().login(email, 'a brand new passphrase')).status).toBe(200);

      const reuse = await client().post('/api/v1/auth/password-reset/confirm', {
        token: mail.token,
        password: 'yet another passphrase',
      });
      expect(reuse.body.code).toBe('AUTH_TOKEN_INVALID');
      const audit = await cloud.database.db.query.auditLogs.findMany({
        where: (a, { like }) => like(a.action, 'auth.password_reset_%'),
      });
      expect(audit.map((a) => a.action)).toEqual(
        expect.arrayContaining(['auth.password_reset_requested', 'auth.password_reset_completed']),
      );
    });

    it('refuses an expired reset link', async () => {
      const email = freshEmail();
      await client().signup(email, PASSWORD);
      await client().post('/api/v1/auth/password-reset/request', { email });
      await cloud.flushMail();
      const { token } = readMail(cloud.dataDir, email);
      cloud.clock.offsetMs = 61 * 60_000;
      try {
        const reply = await client().post('/api/v1/auth/password-reset/confirm', {
          token,
          password: 'new passphrase 1',
        });
        expect(reply.body.code).toBe('AUTH_TOKEN_INVALID');
      } finally {
        cloud.clock.offsetMs = 0;
      }
    });

    it('answers the same for an unknown email and sends nothing', async () => {
      const email = freshEmail();
      const reply = await client().post('/api/v1/auth/password-reset/request', { email });
      expect(reply.status).toBe(202);
      await cloud.flushMail();
      expect(mailCount(cloud.dataDir, email)).toBe(0);
    });

    it('limits reset requests to 3 an hour per account', async () => {
      const email = freshEmail();
      await client().signup(email, PASSWORD);
      for (let i = 0; i < 3; i++) {
        const ip = `10.9.0.${i}`;
        expect(
          (
            await new Client(cloud.baseUrl, { 'x-forwarded-for': ip }).post(
              '/api/v1/auth/password-reset/request',
              { email },
            )
          ).status,
        ).toBe(202);
      }
      const fourth = await new Client(cloud.baseUrl, { 'x-forwarded-for': '10.9.1.1' }).post(
        '/api/v1/auth/password-reset/request',
        { email },
      );
      expect(fourth.status).toBe(429);
      expect(fourth.headers.get('retry-after')).toBeTruthy();
    });
  },
);

describe.each(await backends())('mail over SMTP on $name', (backend) => {
  let cloud: TestCloud;
  let smtp: SMTPServer;
  const received: Array<{ to: string; body: string }> = [];
  let failNext = 0;

  beforeAll(async () => {
    smtp = new SMTPServer({
      authOptional: true,
      disabledCommands: ['STARTTLS'],
      onData(stream, session, callback) {
        const chunks: Buffer[] = [];
        stream.on('data', (c: Buffer) => chunks.push(c));
        stream.on('end', () => {
          if (failNext > 0) {
            failNext--;
            return callback(new Error('451 try again later'));
          }
          received.push({
            to: session.envelope.rcptTo[0]?.address ?? '',
            body: Buffer.concat(chunks).toString('utf8'),
          });
          callback();
        });
      },
    });
    await new Promise<void>((resolve) => smtp.listen(0, '127.0.0.1', resolve));
    const { port } = smtp.server.address() as AddressInfo;
    cloud = await startTestCloud(backend, {
      SMTP_URL: `smtp://127.0.0.1:${port}`,
      MAIL_FROM: 'Canopy <canopy@test>',
    });
  });
  afterAll(async () => {
    await cloud?.stop();
    await new Promise<void>((resolve) => smtp.close(() => resolve()));
  });

  it('delivers the verification mail to an SMTP server', async () => {
    const email = freshEmail();
    await new Client(cloud.baseUrl).signup(email, PASSWORD);
    await cloud.flushMail();
    const mail = received.find((m) => m.to === email);
    expect(mail?.body).toMatch(/Subject: Confirm your email address for Canopy/);
    expect(mail?.body).toMatch(/verify-email#token=/);
  });

  it('keeps a mail the server refused and sends it on a later attempt', async () => {
    const email = freshEmail();
    failNext = 1;
    await new Client(cloud.baseUrl).signup(email, PASSWORD);
    await cloud.flushMail();
    const [row] = await cloud.database.db.select().from(emailOutbox).where(eq(emailOutbox.toEmail, email));
    expect(row).toMatchObject({ status: 'queued', attempts: 1 });
    expect(row?.lastError).toMatch(/try again later/);
    cloud.clock.offsetMs = 2 * 60_000;
    try {
      await cloud.flushMail();
    } finally {
      cloud.clock.offsetMs = 0;
    }
    const [after] = await cloud.database.db.select().from(emailOutbox).where(eq(emailOutbox.toEmail, email));
    expect(after?.status).toBe('sent');
    expect(received.filter((m) => m.to === email)).toHaveLength(1);
  });
});
