import type { ErrorCode } from '@canopy/protocol';
import { useCallback, useRef, useState } from 'react';
import { errorMessage, fieldErrors } from '../api/messages';

type FieldErrors = Record<string, string>;

/**
 * The busy flag and error sentences of one form. Field problems the form can show beside a field
 * go there; anything else becomes the form's own alert.
 */
export function useSubmission(shownFields: readonly string[]) {
  const [busy, setBusy] = useState(false);
  const [formError, setFormError] = useState<string | null>(null);
  const [fields, setFields] = useState<FieldErrors>({});
  const shown = useRef(shownFields);
  shown.current = shownFields;

  /** Shows client-side findings; returns true when there were any. */
  const reject = useCallback((errors: FieldErrors, message: string | null = null): boolean => {
    setFields(errors);
    setFormError(message);
    return Object.keys(errors).length > 0 || message !== null;
  }, []);

  const run = useCallback(
    async (action: () => Promise<void>, overrides?: Partial<Record<ErrorCode, string>>): Promise<boolean> => {
      setBusy(true);
      setFormError(null);
      setFields({});
      try {
        await action();
        return true;
      } catch (error) {
        const perField = fieldErrors(error);
        const visible = Object.fromEntries(
          Object.entries(perField).filter(([path]) => shown.current.includes(path)),
        );
        const allShown =
          Object.keys(perField).length > 0 && Object.keys(visible).length === Object.keys(perField).length;
        setFields(visible);
        setFormError(allShown ? null : errorMessage(error, overrides));
        return false;
      } finally {
        setBusy(false);
      }
    },
    [],
  );

  return { busy, formError, fields, run, reject };
}
