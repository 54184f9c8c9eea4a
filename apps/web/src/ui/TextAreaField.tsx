import type { TextareaHTMLAttributes } from 'react';
import { FieldShell } from './FieldShell';

interface TextAreaFieldProps extends Omit<TextareaHTMLAttributes<HTMLTextAreaElement>, 'onChange' | 'value'> {
  id: string;
  label: string;
  value: string;
  onChange: (value: string) => void;
  error?: string;
  hint?: string;
}

/** Field's multi-line sibling: a labelled textarea with its hint and error line. */
export function TextAreaField({ id, label, value, onChange, error, hint, ...textarea }: TextAreaFieldProps) {
  return (
    <FieldShell id={id} label={label} error={error} hint={hint}>
      {(aria) => (
        <textarea
          {...textarea}
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
