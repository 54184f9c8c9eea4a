import type { Command, CommandStatus } from '@canopy/protocol';
import { SITUATIONS } from '../api/messages';
import type { ShellOutput } from '../ui/ShellResult';

const STATUS: Record<CommandStatus, { label: string; tone: 'accent' | 'muted' | 'waiting' | 'danger' }> = {
  queued: { label: 'Queued', tone: 'muted' },
  running: { label: 'Running…', tone: 'waiting' },
  done: { label: 'Done', tone: 'accent' },
  timeout: { label: 'Timed out', tone: 'danger' },
  error: { label: 'Error', tone: 'danger' },
};

/** The chip's text: "Queued", "Running…", "Done", "Timed out", "Error". */
export function commandStatusLabel(status: CommandStatus): string {
  return STATUS[status].label;
}

export function commandStatusClass(status: CommandStatus): string {
  return `badge badge-${STATUS[status].tone}`;
}

export function isFinalCommand(status: CommandStatus): boolean {
  return status !== 'queued' && status !== 'running';
}

/** Why a command has no proper result, for one that timed out or failed; null otherwise. */
export function commandFailure(status: CommandStatus): string | null {
  if (status === 'timeout') return SITUATIONS.commandTimedOut;
  if (status === 'error') return SITUATIONS.commandFailed;
  return null;
}

/** What the dongle printed, in the shape the output view shows. */
export function commandOutput(command: Command): ShellOutput {
  const started = command.started_at ? Date.parse(command.started_at) : Number.NaN;
  const finished = command.finished_at ? Date.parse(command.finished_at) : Number.NaN;
  const durationMs = finished - started;
  return {
    exitCode: command.exit_code,
    signal: null,
    stdout: command.stdout,
    stderr: command.stderr,
    truncated: command.truncated,
    durationMs: Number.isFinite(durationMs) && durationMs >= 0 ? durationMs : null,
  };
}

const progress = (status: CommandStatus) => (isFinalCommand(status) ? 2 : status === 'running' ? 1 : 0);

/**
 * The history as the page shows it: the server's list, newest first, with what this page learnt since in
 * front of it. A command run here is listed before the server lists it, and a command followed to its end
 * here does not go back to "Running…" when an older copy of the list arrives.
 */
export function mergeCommands(
  server: readonly Command[] | null,
  local: ReadonlyMap<string, Command>,
): Command[] | null {
  if (server === null && local.size === 0) return null;
  const listed = new Set(server?.map((c) => c.command_id));
  const unlisted = [...local.values()]
    .filter((c) => !listed.has(c.command_id))
    .sort((a, b) => b.created_at.localeCompare(a.created_at));
  const known = (server ?? []).map((c) => {
    const mine = local.get(c.command_id);
    return mine && progress(mine.status) > progress(c.status) ? mine : c;
  });
  return [...unlisted, ...known];
}
