import type { ReactNode } from 'react';

interface CheckFieldProps {
  id: string;
  label: string;
  checked: boolean;
  onChange: (checked: boolean) => void;
  hint?: ReactNode;
  disabled?: boolean;
}

/** A checkbox with its label beside it and an optional hint under the label. */
export function CheckField({ id, label, checked, onChange, hint, disabled }: CheckFieldProps) {
  const hintId = hint ? `${id}-hint` : undefined;
  return (
    <div className="check-field">
      <input
        type="checkbox"
        id={id}
        name={id}
        checked={checked}
        disabled={disabled}
        aria-describedby={hintId}
        onChange={(event) => onChange(event.target.checked)}
      />
      <div>
        <label htmlFor={id}>{label}</label>
        {hint && (
          <p id={hintId} className="field-hint">
            {hint}
          </p>
        )}
      </div>
    </div>
  );
}
