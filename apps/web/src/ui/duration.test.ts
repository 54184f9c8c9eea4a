import { describe, expect, it } from 'vitest';
import { formatAgo, formatBytes, formatDuration } from './duration';

describe('formatAgo', () => {
  const now = Date.parse('2030-01-01T12:00:00Z');
  const ago = (ms: number) => formatAgo(new Date(now - ms).toISOString(), now);

  it('counts seconds, then minutes, hours and days', () => {
    expect(ago(2_000)).toBe('2 s ago');
    expect(ago(59_999)).toBe('59 s ago');
    expect(ago(60_000)).toBe('1 min ago');
    expect(ago(3 * 3600_000 + 5_000)).toBe('3 h ago');
    expect(ago(4 * 86_400_000)).toBe('4 d ago');
  });

  it('reads a timestamp slightly in the future as just now', () => {
    expect(ago(-1_500)).toBe('just now');
    expect(ago(400)).toBe('just now');
  });
});

describe('formatDuration', () => {
  it('shows the two largest units', () => {
    expect(formatDuration(45)).toBe('45 s');
    expect(formatDuration(12 * 60 + 5)).toBe('12 min 5 s');
    expect(formatDuration(3 * 3600 + 12 * 60 + 9)).toBe('3 h 12 min');
    expect(formatDuration(2 * 86_400 + 4 * 3600 + 59)).toBe('2 d 4 h');
  });

  it('skips an empty second unit', () => {
    expect(formatDuration(3600 + 7)).toBe('1 h');
    expect(formatDuration(0)).toBe('0 s');
  });
});

describe('formatBytes', () => {
  it('uses binary units', () => {
    expect(formatBytes(512)).toBe('512 B');
    expect(formatBytes(1536)).toBe('1.5 KB');
    expect(formatBytes(8 * 1024 ** 3)).toBe('8.0 GB');
    expect(formatBytes(300 * 1024 ** 2)).toBe('300 MB');
  });
});
