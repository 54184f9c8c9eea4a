import type { CanConfig, CliMessage, RempBody, RempMessage } from '@canopy/remp';
import { EXIT } from './commands';
import { sameBytes } from './pairing';

/*
 * The token check of every non-pairing message (REMP.md §2): exactly the stored token, compared in constant
 * time; an unpaired dongle has none and rejects everything. A reply about a rejected message carries
 * FLAG_AUTH_REJECTED (docs/remp.md); what it says is decided here.
 */

export function tokenMatches(stored: Uint8Array | undefined, presented: Uint8Array): boolean {
  return stored !== undefined && sameBytes(presented, stored);
}

/** The reply to a message whose token was rejected, or undefined when it gets none (CAN frames, responses). */
export function rejectionReply(message: RempMessage, current: CanConfig): RempBody | undefined {
  if (message.type === 'cli' && message.cli.action === 'request') {
    const denied: CliMessage = {
      action: 'response',
      corrId: message.cli.corrId,
      status: 'denied',
      truncated: false,
      more: false,
      stderr: true,
      chunk: 0,
      exitCode: EXIT.denied,
      output: new TextEncoder().encode('token rejected\n'),
    };
    return { type: 'cli', cli: denied };
  }
  if (message.type === 'can_config' && message.config.action !== 'response') {
    return { type: 'can_config', config: { action: 'response', status: 'invalid', config: current } };
  }
  return undefined;
}
