import type { Command } from '@canopy/protocol';
import { type FormEvent, useState } from 'react';
import { donglesApi } from '../api/dongles';
import { errorMessage } from '../api/messages';
import { ErrorAlert } from '../ui/Alert';
import { FieldShell } from '../ui/FieldShell';
import { useSubmission } from '../ui/useSubmission';
import { DONGLE_COMMANDS } from './allowlist';
import { CommandItem } from './CommandItem';
import { useCommands } from './useCommands';

interface CommandConsoleProps {
  dongleId: string;
  /** Why a command can't be sent now (the dongle is offline), or null. */
  blocker: string | null;
  /** The dongle's state may have changed (a refused token means it was reset): the page reloads it. */
  onChanged: () => void;
}

/** The command console (spec 002 §16): the firmware's allowlisted commands, and their output. */
export function CommandConsole({ dongleId, blocker, onChanged }: CommandConsoleProps) {
  const [line, setLine] = useState<string>(DONGLE_COMMANDS[1].line);
  const [runHere, setRunHere] = useState<ReadonlySet<string>>(new Set());
  const { commands, error, update } = useCommands(dongleId);
  const { busy, formError, fields, run } = useSubmission(['command']);

  async function submit(event: FormEvent) {
    event.preventDefault();
    const ok = await run(async () => {
      const queued = await donglesApi.runCommand(dongleId, line);
      setRunHere((ids) => new Set(ids).add(queued.command_id));
      update(placeholder(queued, dongleId, line));
    });
    if (!ok) onChanged();
  }

  return (
    <section className="section" aria-labelledby="commands-title">
      <h2 id="commands-title">Commands</h2>
      <p className="muted">
        Read-only diagnostics the dongle's firmware allows. The dongle runs them at once and sends the output
        back here.
      </p>
      <form className="card inline-form run-command" onSubmit={submit} aria-label="Run a command" noValidate>
        <FieldShell
          id="command-line"
          label="Command"
          hint={DONGLE_COMMANDS.find((c) => c.line === line)?.description}
          error={fields.command}
        >
          {(aria) => (
            <select
              {...aria}
              id="command-line"
              className="input-mono"
              value={line}
              onChange={(event) => setLine(event.target.value)}
            >
              {DONGLE_COMMANDS.map((c) => (
                <option key={c.line} value={c.line}>
                  {c.line}
                </option>
              ))}
            </select>
          )}
        </FieldShell>
        <button type="submit" className="button" disabled={busy || blocker !== null}>
          {busy ? 'Sending…' : 'Run'}
        </button>
        {blocker && <p className="inline-form-note muted">{blocker}</p>}
        <div className="inline-form-error">
          <ErrorAlert>{formError}</ErrorAlert>
        </div>
      </form>

      <ErrorAlert>{error ? errorMessage(error) : null}</ErrorAlert>
      {commands === null && !error && (
        <p className="empty" role="status">
          Loading…
        </p>
      )}
      {commands?.length === 0 && <p className="empty">No commands yet. Run one above.</p>}
      {commands && commands.length > 0 && (
        <ul className="task-list" aria-label="Commands, newest first">
          {commands.map((command) => (
            <CommandItem
              key={command.command_id}
              dongleId={dongleId}
              command={command}
              defaultOpen={runHere.has(command.command_id)}
              onUpdate={update}
            />
          ))}
        </ul>
      )}
    </section>
  );
}

/** How a just-queued command looks until the server's first answer about it. */
function placeholder(
  queued: Pick<Command, 'command_id' | 'status'>,
  dongleId: string,
  line: string,
): Command {
  return {
    ...queued,
    dongle_id: dongleId,
    command: line,
    exit_code: null,
    stdout: '',
    stderr: '',
    truncated: false,
    error: null,
    created_at: new Date().toISOString(),
    started_at: null,
    finished_at: null,
  };
}
