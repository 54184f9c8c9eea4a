/** The two consoles (spec 002 §15.1): one per dongle, one per group. */
export type ConsoleKind = 'dongle' | 'group';

/** The engine stream that is a console's ring buffer, shared by every cloud instance on the same Redis. */
export function consoleStreamKey(kind: ConsoleKind, id: string): string {
  return `console:${kind}:${id}`;
}
