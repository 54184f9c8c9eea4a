import type { EnrollmentKey } from '@canopy/protocol';

/** How a key is named in sentences: its label, or the start of the key when it has none. */
export function keyName(key: EnrollmentKey): string {
  return key.label ?? `${key.prefix}…`;
}
