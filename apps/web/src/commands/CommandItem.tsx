import type { Command } from '@canopy/protocol';
import { useEffect, useState } from 'react';
import { donglesApi } from '../api/dongles';
import { formatDateTime } from '../ui/format';
import { ShellResult } from '../ui/ShellResult';
import { usePolled } from '../ui/usePolled';
import {
  commandFailure,
  commandOutput,
  commandStatusClass,
  commandStatusLabel,
  isFinalCommand,
} from './commandText';

/**
 * A queued or running command is asked for this often until it ends (slower after a failed ask): a safety net,
 * since its status changes arrive on the dongle's live console stream (useCommandEvents).
 */
const LIVE_MS = 3000;
const LIVE_RETRY_MS = 5000;

interface CommandItemProps {
  dongleId: string;
  command: Command;
  /** Commands run from this page show their output by themselves. */
  defaultOpen: boolean;
  onUpdate: (command: Command) => void;
}

/** One command of the history; `data-command-id` lets a test or a script find it. */
export function CommandItem(props: CommandItemProps) {
  return isFinalCommand(props.command.status) ? <CommandView {...props} /> : <LiveCommand {...props} />;
}

/** Follows an unfinished command until it ends, and hands each new state up to the history. */
function LiveCommand(props: CommandItemProps) {
  const { dongleId, command, onUpdate } = props;
  const polled = usePolled(
    (signal) => donglesApi.command(dongleId, command.command_id, signal),
    (data, error) => (data && isFinalCommand(data.status) ? null : error ? LIVE_RETRY_MS : LIVE_MS),
  );
  useEffect(() => {
    if (polled.data) onUpdate(polled.data);
  }, [polled.data, onUpdate]);
  return <CommandView {...props} command={polled.data ?? command} />;
}

function CommandView({ command, defaultOpen }: CommandItemProps) {
  const [open, setOpen] = useState(defaultOpen);
  const final = isFinalCommand(command.status);
  const failure = commandFailure(command.status);
  const output = commandOutput(command);
  const printed = command.stdout !== '' || command.stderr !== '';

  return (
    <li className="task" data-command-id={command.command_id}>
      <div className="task-head">
        <code className="command-line">{command.command}</code>
        <span className={commandStatusClass(command.status)}>{commandStatusLabel(command.status)}</span>
      </div>
      <p className="task-times">
        Sent{' '}
        <time dateTime={command.created_at} title={command.created_at}>
          {formatDateTime(command.created_at)}
        </time>
      </p>
      <details className="task-result" open={open} onToggle={(event) => setOpen(event.currentTarget.open)}>
        <summary>Output</summary>
        {!final && <p className="muted">Waiting for the dongle…</p>}
        {failure && (
          <div className="result result-failed">
            <p>{failure}</p>
            {command.error && <pre className="output output-stderr">{command.error}</pre>}
          </div>
        )}
        {(command.status === 'done' || printed) && <ShellResult output={output} />}
      </details>
    </li>
  );
}
