import { type Task, TaskType } from '@canopy/protocol';
import { type FormEvent, useState } from 'react';
import { agentsApi } from '../api/agents';
import { ErrorAlert } from '../ui/Alert';
import { useSubmission } from '../ui/useSubmission';
import { TaskFields } from './TaskFields';
import { DRAFT_FIELDS, EMPTY_DRAFT, type TaskDraft, toTaskSpec } from './taskDraft';
import { TASK_TYPE_LABELS, TASK_TYPES } from './taskText';

/** The types the node runs only after its owner approves them, under its default policy. */
const NEEDS_APPROVAL = new Set<TaskType>(['shell', 'file_write']);

interface RunTaskFormProps {
  agentId: string;
  online: boolean;
  onCreated: (task: Task) => void;
}

export function RunTaskForm({ agentId, online, onCreated }: RunTaskFormProps) {
  const [draft, setDraft] = useState<TaskDraft>(EMPTY_DRAFT);
  const { busy, formError, fields, run, reject } = useSubmission(DRAFT_FIELDS);

  async function submit(event: FormEvent) {
    event.preventDefault();
    const { spec, errors } = toTaskSpec(draft);
    if (errors) {
      reject(errors);
      return;
    }
    await run(async () => {
      const { task } = await agentsApi.createTask(agentId, spec);
      onCreated(task);
    });
  }

  return (
    <form className="card run-task" onSubmit={submit} aria-labelledby="run-task-title" noValidate>
      <h2 id="run-task-title">Run a task</h2>
      <div className="field">
        <label htmlFor="task-type">Task type</label>
        <select
          id="task-type"
          value={draft.type}
          onChange={(event) => {
            setDraft({ ...draft, type: TaskType.parse(event.target.value) });
            reject({});
          }}
        >
          {TASK_TYPES.map((type) => (
            <option key={type} value={type}>
              {TASK_TYPE_LABELS[type]}
            </option>
          ))}
        </select>
        {NEEDS_APPROVAL.has(draft.type) && (
          <p className="field-hint">
            Unless its policy allows this, the node waits for its owner to approve it there.
          </p>
        )}
      </div>
      <TaskFields draft={draft} errors={fields} onChange={(change) => setDraft({ ...draft, ...change })} />
      <ErrorAlert>{formError}</ErrorAlert>
      <div className="form-actions">
        <button type="submit" className="button" disabled={busy}>
          {busy ? 'Sending…' : 'Run task'}
        </button>
        {!online && <span className="muted">The node is offline: the task waits until it connects.</span>}
      </div>
    </form>
  );
}
