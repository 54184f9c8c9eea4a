import type { ShellOutput } from './results';

function exitText(output: ShellOutput): string {
  if (output.exitCode !== null) return String(output.exitCode);
  return output.signal ? `ended by ${output.signal}` : 'unknown';
}

export function ShellResult({ output }: { output: ShellOutput }) {
  return (
    <div className="result">
      <p className="result-line">
        Exit code{' '}
        <strong className={output.exitCode === 0 ? 'exit-ok' : 'exit-failed'}>{exitText(output)}</strong>
        {output.durationMs !== null && <span className="muted"> · took {output.durationMs} ms</span>}
        {output.truncated && <span className="badge badge-waiting">Output truncated</span>}
      </p>
      <h4>Output (stdout)</h4>
      <pre className="output">{output.stdout || <span className="muted">(nothing)</span>}</pre>
      {output.stderr && (
        <>
          <h4>Errors (stderr)</h4>
          <pre className="output output-stderr">{output.stderr}</pre>
        </>
      )}
    </div>
  );
}
