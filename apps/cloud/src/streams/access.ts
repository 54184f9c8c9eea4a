import type { ConsoleEvent } from '@canopy/protocol';
import type { SessionUser } from '../accounts/sessions';
import type { DongleService } from '../dongles/service';
import { ApiError } from '../http/errors';
import type { ConsoleKind } from './keys';
import { presenceOf } from './presence';

type Dongles = Pick<DongleService, 'ownerOf' | 'get'>;

/** Who may watch a group's console, and what a new watcher sees first; the groups domain provides it. */
export type GroupConsoleAccess = {
  authorize(user: SessionUser, groupId: string): Promise<void>;
  /** The group's two dongles (a, b): a client starting afresh gets their presence first. */
  dongles?(user: SessionUser, groupId: string): Promise<string[]>;
};

/** Until the groups domain plugs its own in: no group console is visible to anyone. */
export const noGroupConsoles: GroupConsoleAccess = {
  async authorize() {
    throw new ApiError(404, 'GROUP_NOT_FOUND', 'Group not found');
  },
};

/**
 * The console routes' authorize and snapshot: a dongle's console is its owner's (or a super_admin's); anyone
 * else gets 404 DONGLE_NOT_FOUND, as if there were no such dongle.
 */
export function consoleAccess(dongles: Dongles, groups: GroupConsoleAccess = noGroupConsoles) {
  const ownerFor = async (user: SessionUser, dongleId: string): Promise<string> => {
    const owner = await dongles.ownerOf(dongleId);
    if (!owner || (owner !== user.id && user.role !== 'super_admin')) {
      throw new ApiError(404, 'DONGLE_NOT_FOUND', 'Dongle not found');
    }
    return owner;
  };
  return {
    async authorize(user: SessionUser, kind: ConsoleKind, id: string): Promise<void> {
      if (kind === 'group') return groups.authorize(user, id);
      await ownerFor(user, id);
    },
    async snapshot(user: SessionUser, kind: ConsoleKind, id: string): Promise<ConsoleEvent[]> {
      if (kind === 'group') {
        const ids = (await groups.dongles?.(user, id)) ?? [];
        const sides = await Promise.all(ids.map(async (d) => dongles.get(await ownerFor(user, d), d)));
        return sides.map((dongle) => ({ type: 'presence' as const, data: presenceOf(dongle) }));
      }
      // Presence as the owner's nodes see it (a super_admin watching sees what the owner would).
      const dongle = await dongles.get(await ownerFor(user, id), id);
      return [{ type: 'presence', data: presenceOf(dongle) }];
    },
  };
}
