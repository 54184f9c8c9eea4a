import { useEffect, useRef, useState } from 'react';
import { SITUATIONS } from '../api/messages';
import { copyText } from './clipboard';

type CopyState = 'idle' | 'copied' | 'selected';

interface CodeBlockProps {
  code: string;
  /** Names the block for screen readers, e.g. "Step 1 command". */
  label: string;
}

/** A command or secret in monospace with a Copy button beside it. */
export function CodeBlock({ code, label }: CodeBlockProps) {
  const ref = useRef<HTMLElement>(null);
  const [state, setState] = useState<CopyState>('idle');

  useEffect(() => {
    if (state !== 'copied') return;
    const timer = setTimeout(() => setState('idle'), 2000);
    return () => clearTimeout(timer);
  }, [state]);

  async function copy() {
    setState((await copyText(code, ref.current)) ? 'copied' : 'selected');
  }

  return (
    <figure className="code-block">
      <figcaption className="visually-hidden">{label}</figcaption>
      <pre>
        <code ref={ref}>{code}</code>
      </pre>
      <div className="code-block-actions">
        <button type="button" className="button button-secondary button-small" onClick={copy}>
          Copy
        </button>
        <span className="code-block-status" role="status">
          {state === 'copied' && 'Copied'}
        </span>
      </div>
      {state === 'selected' && <p className="field-hint">{SITUATIONS.copyFailed}</p>}
    </figure>
  );
}
