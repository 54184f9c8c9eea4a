/** The two consoles (spec 002 §15.1): one per dongle, one per group. */
export type ConsoleKind = 'dongle' | 'group';

/** The engine stream that is a console's ring buffer, shared by every cloud instance on the same Redis. */
export function consoleStreamKey(kind: ConsoleKind, id: string): string {
  return `console:${kind}:${id}`;
}

/** A value that says when a subscriber was last seen on a console (any instance); it expires on its own. */
export function consoleWatchKey(stream: string): string {
  return `${stream}:watched`;
}
