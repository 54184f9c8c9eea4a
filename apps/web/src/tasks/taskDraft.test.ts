import { describe, expect, it } from 'vitest';
import { EMPTY_DRAFT, toTaskSpec } from './taskDraft';

describe('toTaskSpec', () => {
  it('sends an empty payload for a ping', () => {
    expect(toTaskSpec({ ...EMPTY_DRAFT, command: 'ignored' })).toEqual({
      spec: { type: 'status_ping', payload: {} },
    });
  });

  it('sends only the fields of a shell command that were filled in, the timeout in ms', () => {
    expect(toTaskSpec({ ...EMPTY_DRAFT, type: 'shell', command: ' ls -la ', timeoutS: '30' })).toEqual({
      spec: { type: 'shell', payload: { command: 'ls -la', timeout_ms: 30_000 } },
    });
  });

  it('asks for a command and a sensible timeout', () => {
    const result = toTaskSpec({ ...EMPTY_DRAFT, type: 'shell', timeoutS: '1.5' });
    expect(Object.keys(result.errors ?? {}).sort()).toEqual(['payload.command', 'payload.timeout_ms']);
  });

  it('asks for a path to read or write, but lets a written file be empty', () => {
    expect(toTaskSpec({ ...EMPTY_DRAFT, type: 'file_read' }).errors).toHaveProperty(['payload.path']);
    expect(toTaskSpec({ ...EMPTY_DRAFT, type: 'file_write', path: 'notes.txt' }).spec).toEqual({
      type: 'file_write',
      payload: { path: 'notes.txt', content: '', encoding: 'utf8' },
    });
  });
});
