import type { AgentSummary } from '@canopy/protocol';
import { type FormEvent, useState } from 'react';
import { agentsApi } from '../api/agents';
import { SITUATIONS } from '../api/messages';
import { ErrorAlert } from '../ui/Alert';
import { Field } from '../ui/Field';
import { useSubmission } from '../ui/useSubmission';

interface RenameNodeProps {
  agent: AgentSummary;
  onRenamed: (agent: AgentSummary) => void;
  onCancel: () => void;
}

/** The node's name as an input, in place of the heading, until saved or cancelled. */
export function RenameNode({ agent, onRenamed, onCancel }: RenameNodeProps) {
  const [name, setName] = useState(agent.name);
  const { busy, formError, fields, run, reject } = useSubmission(['name']);

  async function submit(event: FormEvent) {
    event.preventDefault();
    const trimmed = name.trim();
    if (!trimmed) {
      reject({ name: SITUATIONS.nameMissing });
      return;
    }
    await run(async () => onRenamed((await agentsApi.rename(agent.id, trimmed)).agent));
  }

  return (
    <form className="rename" onSubmit={submit} noValidate>
      <Field
        id="node-name"
        label="Name"
        value={name}
        onChange={setName}
        maxLength={100}
        autoFocus
        error={fields.name}
        hint={`Only shown in Canopy; the computer's hostname stays ${agent.hostname}.`}
      />
      <div className="form-actions">
        <button type="submit" className="button" disabled={busy}>
          {busy ? 'Saving…' : 'Save'}
        </button>
        <button type="button" className="button button-secondary" onClick={onCancel} disabled={busy}>
          Cancel
        </button>
      </div>
      <ErrorAlert>{formError}</ErrorAlert>
    </form>
  );
}
