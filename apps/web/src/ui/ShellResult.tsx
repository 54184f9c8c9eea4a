/** What a command run on a node or a dongle printed, and how it ended. */
export interface ShellOutput {
  exitCode: number | null;
  signal: string | null;
  stdout: string;
  stderr: string;
  truncated: boolean;
  durationMs: number | null;
}

function exitText(output: ShellOutput): string {
  if (output.exitCode !== null) return String(output.exitCode);
  return output.signal ? `ended by ${output.signal}` : 'unknown';
}

/** Exit code, stdout and (marked) stderr in monospace, and whether the output was cut. */
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
