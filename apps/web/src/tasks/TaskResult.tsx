import type { Task, TaskStatus } from '@canopy/protocol';
import { SITUATIONS } from '../api/messages';
import { formatBytes } from '../ui/duration';
import { formatDateTime } from '../ui/format';
import { ShellResult } from '../ui/ShellResult';
import { readFileResult, readPairs, readPong, readShellResult, readWriteResult } from './results';
import { SystemInfoResult } from './SystemInfoResult';
import { isFinal } from './taskText';

function failure(status: TaskStatus): string {
  if (status === 'rejected') return SITUATIONS.taskRejected;
  if (status === 'timeout') return SITUATIONS.taskTimedOut;
  return SITUATIONS.taskFailed;
}

/** What came back from the node, shown the way its type reads best; raw JSON for shapes it doesn't know. */
export function TaskResult({ task }: { task: Task }) {
  if (!isFinal(task.status))
    return <p className="muted">No result yet: the node has not finished this task.</p>;
  if (task.status !== 'done') {
    return (
      <div className="result result-failed">
        <p>{failure(task.status)}</p>
        {task.error && <pre className="output output-stderr">{task.error}</pre>}
      </div>
    );
  }
  return <DoneResult task={task} />;
}

function DoneResult({ task }: { task: Task }) {
  const { result } = task;
  switch (task.type) {
    case 'status_ping': {
      const pong = readPong(result);
      if (!pong) break;
      return (
        <p className="result-line">
          <strong>pong</strong>
          {pong.at && <span className="muted"> · node clock {formatDateTime(pong.at)}</span>}
        </p>
      );
    }
    case 'shell': {
      const output = readShellResult(result);
      if (output) return <ShellResult output={output} />;
      break;
    }
    case 'file_read': {
      const file = readFileResult(result);
      if (!file) break;
      return (
        <div className="result">
          <p className="result-line muted">
            {file.path ?? 'File'}
            {file.size !== null && ` · ${formatBytes(file.size)}`}
            {file.base64 && ' · not text, shown as base64'}
          </p>
          <pre className="output">{file.content || <span className="muted">(empty file)</span>}</pre>
        </div>
      );
    }
    case 'file_write': {
      const written = readWriteResult(result);
      if (!written) break;
      return (
        <p className="result-line">
          Wrote {formatBytes(written.bytes)} to <code>{written.path ?? 'the file'}</code>.
        </p>
      );
    }
    case 'system_info': {
      const pairs = readPairs(result);
      if (pairs) return <SystemInfoResult pairs={pairs} />;
      break;
    }
  }
  return <pre className="output">{JSON.stringify(result, null, 2) ?? 'null'}</pre>;
}
