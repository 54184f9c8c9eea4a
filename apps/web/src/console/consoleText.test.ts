import { describe, expect, it } from 'vitest';
import { backlogText, formatCanId, formatTime, frameCount, noticeText, spacedHex } from './consoleText';

describe('console text', () => {
  it('shows a payload a byte at a time', () => {
    expect(spacedHex('04410C1AF8AAAAAA')).toBe('04 41 0C 1A F8 AA AA AA');
    expect(spacedHex('0A')).toBe('0A');
    expect(spacedHex('')).toBe('');
  });

  it('shows 11-bit ids with three digits and 29-bit ids with eight', () => {
    expect(formatCanId(0x7e8, false)).toBe('0x7E8');
    expect(formatCanId(0x1, false)).toBe('0x001');
    expect(formatCanId(0x18daf110, true)).toBe('0x18DAF110');
    expect(formatCanId(0x123, true)).toBe('0x00000123');
  });

  it('shows the time of day to the millisecond', () => {
    expect(formatTime(new Date(2025, 11, 22, 9, 5, 7, 42).toISOString())).toBe('09:05:07.042');
    expect(formatTime('soon')).toBe('soon');
  });

  it('counts frames in words', () => {
    expect(frameCount(1)).toBe('1 frame');
    expect(frameCount(12_034)).toBe('12,034 frames');
  });

  it('says how much of a backlog is left and how far the catch-up is', () => {
    expect(backlogText(0, null)).toBe('none');
    expect(backlogText(12_034, null)).toBe('12,034 frames');
    expect(backlogText(3_000, 0.75)).toBe('3,000 frames left, 75 % sent');
  });

  it('puts known notices in its own words, and others as the server wrote them', () => {
    const notice = { key: 1, ts: '', level: 'warn' as const };
    expect(noticeText({ ...notice, code: 'console_sampling_stopped', message: 'x' })).toBe(
      'The console shows every frame again.',
    );
    expect(noticeText({ ...notice, code: 'command_done', message: 'remote status' })).toBe(
      'Command "remote status" finished.',
    );
    expect(noticeText({ ...notice, message: 'Something else' })).toBe('Something else');
    expect(noticeText({ ...notice, code: 'console_sampling', message: 'x', oneIn: 4, ratePerS: 2000 })).toBe(
      'The bus is busier than the console can show (about 2,000 frames/s): it shows 1 in 4 frames. Every frame is still relayed.',
    );
  });
});
