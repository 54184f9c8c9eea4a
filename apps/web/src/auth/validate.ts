import { type FieldIssue, fieldIssues } from '@canopy/protocol';
import { fieldSentence, SITUATIONS } from '../api/messages';

type SchemaError = Parameters<typeof fieldIssues>[0];

/** Any shared zod schema; typed by shape so the web app needs no direct zod dependency. */
interface Schema {
  safeParse(values: unknown): { success: true } | { success: false; error: SchemaError };
}

/**
 * Checks a form against the same shared schema the server uses, so the user sees the server's rules
 * before sending. Returns field path → sentence; empty when the values are fine.
 */
export function validate(schema: Schema, values: Record<string, string>): Record<string, string> {
  const issues: FieldIssue[] = [];
  for (const [path, value] of Object.entries(values)) {
    if (value.trim() === '') issues.push({ path, message: 'is required' });
  }
  const parsed = schema.safeParse(values);
  if (!parsed.success) issues.push(...fieldIssues(parsed.error));

  const errors: Record<string, string> = {};
  for (const issue of issues) errors[issue.path] ??= fieldSentence(issue);
  return errors;
}

/** Like validate, for forms that choose a password and repeat it in a `confirm` field. */
export function validateNewPassword(
  schema: Schema,
  values: Record<string, string> & { password: string; confirm: string },
): Record<string, string> {
  const errors = validate(schema, values);
  if (values.confirm && values.confirm !== values.password) errors.confirm ??= SITUATIONS.passwordsDiffer;
  return errors;
}
