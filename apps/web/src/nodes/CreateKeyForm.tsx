import type { CreateEnrollmentKeyResponse } from '@canopy/protocol';
import { type FormEvent, useState } from 'react';
import { agentsApi } from '../api/agents';
import { ErrorAlert } from '../ui/Alert';
import { Field } from '../ui/Field';
import { useSubmission } from '../ui/useSubmission';

/** Creates an enrollment key, with an optional label to recognise it later. */
export function CreateKeyForm({ onCreated }: { onCreated: (created: CreateEnrollmentKeyResponse) => void }) {
  const [label, setLabel] = useState('');
  const { busy, formError, fields, run } = useSubmission(['label']);

  async function submit(event: FormEvent) {
    event.preventDefault();
    await run(async () => {
      onCreated(await agentsApi.createEnrollmentKey(label.trim() || undefined));
      setLabel('');
    });
  }

  return (
    <form className="inline-form" onSubmit={submit} aria-label="Create an enrollment key" noValidate>
      <Field
        id="key-label"
        label="Label"
        value={label}
        onChange={setLabel}
        maxLength={100}
        placeholder="e.g. Workshop PC"
        hint="Optional, to recognise the key later."
        error={fields.label}
      />
      <button type="submit" className="button" disabled={busy}>
        {busy ? 'Creating…' : 'Create enrollment key'}
      </button>
      <div className="inline-form-error">
        <ErrorAlert>{formError}</ErrorAlert>
      </div>
    </form>
  );
}
