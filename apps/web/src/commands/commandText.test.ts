import type { Command } from '@canopy/protocol';
import { describe, expect, it } from 'vitest';
import {
  commandFailure,
  commandOutput,
  commandStatusClass,
  commandStatusLabel,
  isFinalCommand,
  mergeCommands,
} from './commandText';

const command = (id: string, patch: Partial<Command> = {}): Command => ({
  command_id: id,
  dongle_id: '00000000-0000-4000-8000-000000000001',
  command: 'remote status',
  status: 'queued',
  exit_code: null,
  stdout: '',
  stderr: '',
  truncated: false,
  error: null,
  created_at: '2030-01-01T12:00:00.000Z',
  started_at: null,
  finished_at: null,
  ...patch,
});

describe('command status chips', () => {
  it('reads each status in words', () => {
    expect(commandStatusLabel('queued')).toBe('Queued');
    expect(commandStatusLabel('running')).toBe('Running…');
    expect(commandStatusLabel('done')).toBe('Done');
    expect(commandStatusLabel('timeout')).toBe('Timed out');
    expect(commandStatusLabel('error')).toBe('Error');
  });

  it('colours success, progress and failure apart', () => {
    expect(commandStatusClass('done')).toBe('badge badge-accent');
    expect(commandStatusClass('running')).toBe('badge badge-waiting');
    expect(commandStatusClass('timeout')).toBe('badge badge-danger');
  });

  it('counts done, error and timeout as final', () => {
    expect(['queued', 'running', 'done', 'error', 'timeout'].map((s) => isFinalCommand(s as never))).toEqual([
      false,
      false,
      true,
      true,
      true,
    ]);
    expect(commandFailure('done')).toBeNull();
    expect(commandFailure('timeout')).toMatch(/in time/);
  });
});

describe('commandOutput', () => {
  it('takes the duration from the start and finish times', () => {
    const done = command('a', {
      status: 'done',
      exit_code: 0,
      stdout: 'ok\n',
      started_at: '2030-01-01T12:00:00.000Z',
      finished_at: '2030-01-01T12:00:00.250Z',
    });
    expect(commandOutput(done)).toEqual({
      exitCode: 0,
      signal: null,
      stdout: 'ok\n',
      stderr: '',
      truncated: false,
      durationMs: 250,
    });
    expect(commandOutput(command('b')).durationMs).toBeNull();
  });
});

describe('mergeCommands', () => {
  it('is null until either side knows something', () => {
    expect(mergeCommands(null, new Map())).toBeNull();
    expect(mergeCommands([], new Map())).toEqual([]);
  });

  it('puts a command run here first until the server lists it', () => {
    const old = command('old');
    const mine = command('mine', { created_at: '2030-01-01T12:05:00.000Z' });
    expect(mergeCommands([old], new Map([['mine', mine]]))?.map((c) => c.command_id)).toEqual([
      'mine',
      'old',
    ]);
    expect(mergeCommands(null, new Map([['mine', mine]]))).toEqual([mine]);
  });

  it('keeps whichever copy of a command is further along', () => {
    const running = command('a', { status: 'running' });
    const done = command('a', { status: 'done', exit_code: 0 });
    expect(mergeCommands([running], new Map([['a', done]]))).toEqual([done]);
    expect(mergeCommands([done], new Map([['a', running]]))).toEqual([done]);
  });
});
