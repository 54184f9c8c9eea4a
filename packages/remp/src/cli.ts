import type { CliMessage, CliStatus } from './remp';

/** The commands dongle firmware accepts from the cloud (REMP.md §2, exact match). */
export const CLI_ALLOWLIST = [
  'help',
  'remote status',
  'remote stats',
  'can cfg show',
  'discovery status',
  'time status',
] as const;
export type AllowedCommand = (typeof CLI_ALLOWLIST)[number];
export const isAllowedCommand = (command: string): command is AllowedCommand =>
  (CLI_ALLOWLIST as readonly string[]).includes(command);

/** Output a dongle keeps per command (REMP.md §2). */
export const CLI_OUTPUT_CAP = 64 * 1024;
/** Bytes of output per CMD_RSP datagram: well under a typical 1500-byte MTU with headers and token. */
export const CLI_CHUNK_BYTES = 1024;

type CliResponse = Extract<CliMessage, { action: 'response' }>;

/**
 * Splits one command's output into CMD_RSP chunks (stdout first, then stderr), capped at CLI_OUTPUT_CAP:
 * what the cap cut is marked `truncated` on every chunk. Always at least one chunk.
 */
export function splitCliOutput(
  result: { corrId: string; status: CliStatus; exitCode: number; stdout: Uint8Array; stderr?: Uint8Array },
  chunkBytes = CLI_CHUNK_BYTES,
): CliResponse[] {
  // 0 or a fraction would never advance through the output; more than 0xffff does not fit out_len.
  if (!Number.isInteger(chunkBytes) || chunkBytes < 1 || chunkBytes > 0xffff) {
    throw new RangeError('chunkBytes must be an integer from 1 to 65535');
  }
  const stderr = result.stderr ?? new Uint8Array(0);
  const truncated = result.stdout.length + stderr.length > CLI_OUTPUT_CAP;
  const stdout = result.stdout.subarray(0, CLI_OUTPUT_CAP);
  const errOut = stderr.subarray(0, CLI_OUTPUT_CAP - stdout.length);
  const pieces: Array<{ stderr: boolean; output: Uint8Array }> = [];
  for (const [isErr, bytes] of [
    [false, stdout],
    [true, errOut],
  ] as const) {
    for (let at = 0; at < bytes.length; at += chunkBytes) {
      pieces.push({ stderr: isErr, output: bytes.subarray(at, at + chunkBytes) });
    }
  }
  if (pieces.length === 0) pieces.push({ stderr: false, output: new Uint8Array(0) });
  if (pieces.length > 256) throw new RangeError('the output needs more than 256 chunks; raise chunkBytes');
  return pieces.map((piece, chunk) => ({
    action: 'response',
    corrId: result.corrId,
    status: result.status,
    truncated,
    more: chunk < pieces.length - 1,
    stderr: piece.stderr,
    chunk,
    exitCode: result.exitCode,
    output: piece.output,
  }));
}

export interface CliResult {
  corrId: string;
  status: CliStatus;
  exitCode: number;
  truncated: boolean;
  stdout: string;
  stderr: string;
}

/**
 * Puts CMD_RSP chunks of one corr_id back in order, whatever order UDP delivered them in; duplicates are
 * ignored. `add` returns the whole result once the last chunk and every one before it have arrived.
 */
export class CliAssembler {
  readonly #chunks = new Map<number, CliResponse>();
  #last: number | undefined;

  add(response: CliResponse): CliResult | undefined {
    if (this.#chunks.has(response.chunk)) return undefined; // a duplicate: the result, if any, was given
    this.#chunks.set(response.chunk, response);
    if (!response.more) this.#last = response.chunk;
    if (this.#last === undefined || this.#chunks.size < this.#last + 1) return undefined;
    const ordered: CliResponse[] = [];
    for (let i = 0; i <= this.#last; i++) {
      const chunk = this.#chunks.get(i);
      if (chunk === undefined) return undefined;
      ordered.push(chunk);
    }
    const join = (wantErr: boolean) => {
      const parts = ordered.filter((c) => c.stderr === wantErr).map((c) => c.output);
      const all = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
      let at = 0;
      for (const part of parts) {
        all.set(part, at);
        at += part.length;
      }
      // Lenient: a cut at the cap may split a character. ignoreBOM: a leading U+FEFF is output, kept.
      return new TextDecoder('utf-8', { ignoreBOM: true }).decode(all);
    };
    const final = ordered[ordered.length - 1] as CliResponse;
    return {
      corrId: final.corrId,
      status: final.status,
      exitCode: final.exitCode,
      truncated: ordered.some((c) => c.truncated),
      stdout: join(false),
      stderr: join(true),
    };
  }

  /** How many distinct chunks arrived so far. */
  get received(): number {
    return this.#chunks.size;
  }
}
