import type { Db } from '../db/client';
import type { Logger } from '../log';
import { claimDueMails, markFailed, markSent } from './outbox';
import { renderMail, SECRET_PAYLOAD_FIELDS } from './templates';
import { type MailTransport, maskEmail } from './transports';

export type MailWorker = {
  /** Asks for an immediate pass (after a mail was queued) instead of waiting for the next tick. */
  kick(): void;
  /** Runs one pass now; resolves with the number of mails handled. */
  drain(): Promise<number>;
  stop(): Promise<void>;
};

export function startMailWorker(opts: {
  db: Db;
  transport: MailTransport;
  from: string;
  log: Logger;
  intervalMs?: number;
  now?: () => Date;
}): MailWorker {
  const { db, transport, from, log } = opts;
  const now = opts.now ?? (() => new Date());
  let running: Promise<number> | undefined;
  let stopped = false;

  async function pass(): Promise<number> {
    let handled = 0;
    for (;;) {
      const batch = await claimDueMails(db, now());
      if (batch.length === 0) return handled;
      for (const mail of batch) {
        handled++;
        try {
          const rendered = renderMail(mail.template, mail.payload);
          await transport.send({ ...rendered, to: mail.toEmail, from, id: mail.id });
          const redacted = { ...mail.payload };
          for (const field of SECRET_PAYLOAD_FIELDS) if (field in redacted) redacted[field] = '[sent]';
          await markSent(db, mail, redacted, now());
          log.info(
            { mail_id: mail.id, template: mail.template, to: maskEmail(mail.toEmail), via: transport.kind },
            'mail sent',
          );
        } catch (err) {
          const message = err instanceof Error ? err.message : String(err);
          const gaveUp = await markFailed(db, mail, message, now());
          log.warn(
            {
              mail_id: mail.id,
              template: mail.template,
              attempts: mail.attempts + 1,
              err: message,
              gave_up: gaveUp,
            },
            'mail not sent',
          );
        }
      }
    }
  }

  function drain(): Promise<number> {
    if (stopped) return Promise.resolve(0);
    // One pass at a time; a kick during a pass runs another pass after it.
    const next = (running ?? Promise.resolve(0)).then(pass, pass).catch((err) => {
      log.error({ err }, 'mail worker pass failed');
      return 0;
    });
    running = next;
    return next;
  }

  const timer = setInterval(() => void drain(), opts.intervalMs ?? 5000);
  timer.unref();

  return {
    kick: () => void drain(),
    drain,
    stop: async () => {
      stopped = true;
      clearInterval(timer);
      await running;
      transport.close();
    },
  };
}
