import { Field } from '../ui/Field';
import { TextAreaField } from '../ui/TextAreaField';
import type { TaskDraft } from './taskDraft';

interface TaskFieldsProps {
  draft: TaskDraft;
  errors: Record<string, string>;
  onChange: (change: Partial<TaskDraft>) => void;
}

/** The inputs of the chosen task type; ping and system info have none. */
export function TaskFields({ draft, errors, onChange }: TaskFieldsProps) {
  const path = (
    <Field
      id="task-path"
      label="Path"
      value={draft.path}
      onChange={(value) => onChange({ path: value })}
      className="input-mono"
      placeholder="e.g. notes/today.txt"
      hint="Relative to the node's workspace folder, unless its policy allows more."
      error={errors['payload.path']}
      spellCheck={false}
    />
  );
  switch (draft.type) {
    case 'shell':
      return (
        <>
          <Field
            id="task-command"
            label="Command"
            value={draft.command}
            onChange={(value) => onChange({ command: value })}
            className="input-mono"
            placeholder="e.g. uname -a"
            error={errors['payload.command']}
            spellCheck={false}
            autoComplete="off"
          />
          <div className="field-row">
            <Field
              id="task-cwd"
              label="Working folder (optional)"
              value={draft.cwd}
              onChange={(value) => onChange({ cwd: value })}
              className="input-mono"
              hint="Inside the node's workspace."
              error={errors['payload.cwd']}
              spellCheck={false}
            />
            <Field
              id="task-timeout"
              label="Timeout in seconds (optional)"
              value={draft.timeoutS}
              onChange={(value) => onChange({ timeoutS: value })}
              inputMode="numeric"
              hint="The node's own limit applies too."
              error={errors['payload.timeout_ms']}
            />
          </div>
        </>
      );
    case 'file_read':
      return path;
    case 'file_write':
      return (
        <>
          {path}
          <TextAreaField
            id="task-content"
            label="Content"
            value={draft.content}
            onChange={(value) => onChange({ content: value })}
            className="input-mono"
            rows={6}
            hint="Saved as UTF-8 text; an existing file is replaced."
            error={errors['payload.content']}
            spellCheck={false}
          />
        </>
      );
    default:
      return null;
  }
}
