/*
 * A task's result is whatever the node sent (`unknown` in the protocol). These read the shapes canopy-node
 * reports, and return null for anything else so the page can fall back to plain JSON.
 */
import type { ShellOutput } from '../ui/ShellResult';

type Json = Record<string, unknown>;

const isRecord = (value: unknown): value is Json =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

export function readShellResult(result: unknown): ShellOutput | null {
  if (!isRecord(result) || typeof result.stdout !== 'string' || typeof result.stderr !== 'string')
    return null;
  return {
    exitCode: typeof result.exit_code === 'number' ? result.exit_code : null,
    signal: typeof result.signal === 'string' ? result.signal : null,
    stdout: result.stdout,
    stderr: result.stderr,
    truncated: result.truncated === true,
    durationMs: typeof result.duration_ms === 'number' ? result.duration_ms : null,
  };
}

export interface FileContent {
  path: string | null;
  size: number | null;
  content: string;
  base64: boolean;
}

export function readFileResult(result: unknown): FileContent | null {
  if (!isRecord(result) || typeof result.content !== 'string') return null;
  return {
    path: typeof result.path === 'string' ? result.path : null,
    size: typeof result.size === 'number' ? result.size : null,
    content: result.content,
    base64: result.encoding === 'base64',
  };
}

export function readWriteResult(result: unknown): { path: string | null; bytes: number } | null {
  if (!isRecord(result) || typeof result.bytes !== 'number') return null;
  return { path: typeof result.path === 'string' ? result.path : null, bytes: result.bytes };
}

/** The fields of an object result, for a key/value table. */
export function readPairs(result: unknown): [string, unknown][] | null {
  return isRecord(result) ? Object.entries(result) : null;
}

export function readPong(result: unknown): { at: string | null } | null {
  if (!isRecord(result) || result.pong !== true) return null;
  return { at: typeof result.at === 'string' ? result.at : null };
}
