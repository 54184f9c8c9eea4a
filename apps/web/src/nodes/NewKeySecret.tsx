import type { CreateEnrollmentKeyResponse } from '@canopy/protocol';
import { CodeBlock } from '../ui/CodeBlock';

interface NewKeySecretProps {
  created: CreateEnrollmentKeyResponse;
  onDismiss: () => void;
}

/** The enrollment key just created: the only time its secret is on screen. */
export function NewKeySecret({ created, onDismiss }: NewKeySecretProps) {
  const { key, secret } = created;
  return (
    <section className="secret" aria-labelledby="new-key-title">
      <h3 id="new-key-title">Your enrollment key{key.label ? ` “${key.label}”` : ''}</h3>
      <CodeBlock code={secret} label="Enrollment key" />
      <p className="secret-warning">
        <strong>Copy it now: it won't be shown again.</strong> Anyone who has it can add computers to your
        account until you revoke it. It is filled in below.
      </p>
      <button type="button" className="button button-secondary button-small" onClick={onDismiss}>
        Create another key
      </button>
    </section>
  );
}
