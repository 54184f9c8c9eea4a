import type { InputHTMLAttributes } from 'react';
import { FieldShell } from './FieldShell';

interface FieldProps extends Omit<InputHTMLAttributes<HTMLInputElement>, 'onChange' | 'value'> {
  id: string;
  label: string;
  value: string;
  onChange: (value: string) => void;
  error?: string;
  hint?: string;
}

/** A labelled input with its own hint and error line, wired up for screen readers. */
export function Field({ id, label, value, onChange, error, hint, ...input }: FieldProps) {
  return (
    <FieldShell id={id} label={label} error={error} hint={hint}>
      {(aria) => (
        <input
          {...input}
          {...aria}
          id={id}
          name={id}
          value={value}
          onChange={(event) => onChange(event.target.value)}
        />
      )}
    </FieldShell>
  );
}
