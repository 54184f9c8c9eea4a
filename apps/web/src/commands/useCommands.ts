import type { Command } from '@canopy/protocol';
import { useCallback, useMemo, useState } from 'react';
import { donglesApi } from '../api/dongles';
import { usePolled } from '../ui/usePolled';
import { isFinalCommand, mergeCommands } from './commandText';
import { useCommandEvents } from './useCommandEvents';

/** The history is asked for this often while the page is visible; a running command is followed faster. */
const HISTORY_MS = 4000;

/** A dongle's commands, newest first, with those run or followed on this page merged in. */
export function useCommands(dongleId: string) {
  const polled = usePolled((signal) => donglesApi.commands(dongleId, signal), HISTORY_MS);
  const [local, setLocal] = useState<ReadonlyMap<string, Command>>(new Map());

  /** A command's latest state, learnt here: just created, or followed to its end. */
  const update = useCallback((command: Command) => {
    setLocal((current) => new Map(current).set(command.command_id, command));
  }, []);

  const commands = useMemo(() => mergeCommands(polled.data?.commands ?? null, local), [polled.data, local]);
  // Live status comes from the dongle's console stream; each change fetches the command (with its output).
  const following = (commands ?? []).some((c) => !isFinalCommand(c.status));
  useCommandEvents(dongleId, following, (event) => {
    donglesApi
      .command(dongleId, event.command_id)
      .then(update)
      .catch(() => {}); // the slower asking of CommandItem catches up
  });
  return { commands, error: polled.error, update };
}
