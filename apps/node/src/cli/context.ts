import { type OpenedConfig, openConfig } from '../config';
import { type CredentialOptions, writeToken } from '../credential';
import type { NodeEnv } from './env';

/** What every command gets: the parsed environment and where to write. */
export interface CliContext {
  env: NodeEnv;
  stdout: { write(text: string): unknown };
  stderr: { write(text: string): unknown };
}

export function credentialOptions(ctx: CliContext): CredentialOptions {
  return { prefer: ctx.env.credentialStore };
}

/**
 * Opens the home's config the way every command does (permissions fixed, a v1 file upgraded) and tells
 * the user what was fixed.
 */
export async function openHome(ctx: CliContext): Promise<OpenedConfig> {
  const { home } = ctx.env;
  const opened = await openConfig(home, (token) => writeToken(home, token, credentialOptions(ctx)));
  for (const notice of opened.notices) ctx.stderr.write(`canopy-node: ${notice}\n`);
  return opened;
}
