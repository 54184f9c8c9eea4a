import { z } from 'zod';

/** Each template's payload schema; `link` carries a one-time token and is redacted once the mail is sent. */
const templates = {
  verify_email: {
    payload: z.object({ link: z.string() }),
    render: (p: { link: string }) => ({
      subject: 'Confirm your email address for Canopy',
      text: `Welcome to Canopy.\n\nConfirm your email address by opening this link within 24 hours:\n\n${p.link}\n\nIf you did not create an account, ignore this email.\n`,
    }),
  },
  password_reset: {
    payload: z.object({ link: z.string() }),
    render: (p: { link: string }) => ({
      subject: 'Reset your Canopy password',
      text: `Someone asked to reset the password of your Canopy account.\n\nOpen this link within 1 hour to choose a new password:\n\n${p.link}\n\nIf it was not you, ignore this email: your password stays as it is.\n`,
    }),
  },
} as const;

export type TemplateName = keyof typeof templates;
export type RenderedMail = { subject: string; text: string };

export const SECRET_PAYLOAD_FIELDS = ['link'] as const;

export function renderMail(template: string, payload: unknown): RenderedMail {
  const t = templates[template as TemplateName];
  if (!t) throw new Error(`unknown mail template "${template}"`);
  return t.render(t.payload.parse(payload));
}
