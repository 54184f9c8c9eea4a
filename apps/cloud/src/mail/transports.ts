import fs from 'node:fs';
import path from 'node:path';
import nodemailer from 'nodemailer';
import type { Logger } from '../log';
import type { RenderedMail } from './templates';

export type OutgoingMail = RenderedMail & { to: string; from: string; id: string };

export interface MailTransport {
  readonly kind: 'smtp' | 'dev-sink';
  send(mail: OutgoingMail): Promise<void>;
  close(): void;
}

export function smtpTransport(smtpUrl: string): MailTransport {
  const transporter = nodemailer.createTransport(smtpUrl);
  return {
    kind: 'smtp',
    send: async (mail) => {
      await transporter.sendMail({ from: mail.from, to: mail.to, subject: mail.subject, text: mail.text });
    },
    close: () => transporter.close(),
  };
}

/**
 * With no SMTP server, mail is written as .eml files to `<data>/mail` (0600) and the log says where.
 * The mail itself stays out of the log: its links carry one-time tokens.
 */
export function devSinkTransport(dataDir: string, log: Logger): MailTransport {
  const dir = path.join(dataDir, 'mail');
  return {
    kind: 'dev-sink',
    send: async (mail) => {
      await fs.promises.mkdir(dir, { recursive: true, mode: 0o700 });
      const file = path.join(dir, `${new Date().toISOString().replace(/[:.]/g, '-')}-${mail.id}.eml`);
      const eml = `From: ${mail.from}\nTo: ${mail.to}\nSubject: ${mail.subject}\nContent-Type: text/plain; charset=utf-8\n\n${mail.text}`;
      await fs.promises.writeFile(file, eml, { mode: 0o600 });
      log.info(
        { mail_id: mail.id, to: maskEmail(mail.to), file },
        'mail written to the dev mail sink (set SMTP_URL to send)',
      );
    },
    close: () => {},
  };
}

export function maskEmail(email: string): string {
  const [local = '', domain = ''] = email.split('@');
  return `${local.slice(0, 1)}***@${domain}`;
}
