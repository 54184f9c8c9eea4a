import { type CliMessage, splitCliOutput } from '@canopy/remp';
import { type DongleView, EXIT, paddingLines, runCommand } from './commands';

type CliRequest = Extract<CliMessage, { action: 'request' }>;
type CliResponse = Extract<CliMessage, { action: 'response' }>;

export interface CliRun {
  request: CliRequest;
  /** The control knob: how long the command takes. */
  delayMs: number;
  /** Longer than this and the firmware gives up: status 'timeout' (the CMD_REQ has no timeout field). */
  timeoutMs: number;
  /** The control knob: numbered lines appended to stdout, to force long chunked output. */
  padBytes: number;
  /** The dongle as the command sees it when it runs. */
  view: () => DongleView;
  later: (ms: number, fn: () => void) => void;
  /** One CMD_RSP chunk. */
  send: (response: CliResponse) => void;
}

const encoder = new TextEncoder();

/**
 * Runs one CMD_REQ the way firmware does: a command off the allowlist is denied at once; an allowed one
 * answers after `delayMs`, or with 'timeout' at `timeoutMs` if it would take that long. The output is split
 * into CMD_RSP chunks (and cut at 64 KB) by the codec's splitCliOutput.
 */
export function runCli(run: CliRun): void {
  const { request } = run;
  const reply = (status: CliResponse['status'], exitCode: number, stdout: string, stderr: string) => {
    const chunks = splitCliOutput({
      corrId: request.corrId,
      status,
      exitCode,
      stdout: encoder.encode(stdout),
      stderr: encoder.encode(stderr),
    });
    for (const chunk of chunks) run.send(chunk);
  };
  const first = runCommand(request.command, run.view());
  if (first.status === 'denied') {
    reply('denied', first.exitCode, first.stdout, first.stderr);
    return;
  }
  if (run.delayMs >= run.timeoutMs) {
    run.later(run.timeoutMs, () =>
      reply('timeout', EXIT.timeout, '', `${request.command}: timed out after ${run.timeoutMs} ms\n`),
    );
    return;
  }
  const finish = () => {
    const out = runCommand(request.command, run.view());
    reply('ok', out.exitCode, out.stdout + paddingLines(run.padBytes), out.stderr);
  };
  if (run.delayMs > 0) run.later(run.delayMs, finish);
  else finish();
}
