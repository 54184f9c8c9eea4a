import type { LogEvent } from '@canopy/protocol';

const count = new Intl.NumberFormat('en-US');

/**
 * What the group console says when the relay trimmed a buffer (the details it audits): how many frames of which
 * direction were dropped, and why, so that the person watching knows frames are missing and where.
 */
export function trimNotice(details: Record<string, unknown>): LogEvent {
  const frames = Number(details.frames ?? 0);
  const way = details.direction === 'b_to_a' ? 'B → A' : 'A → B';
  const waitingFor = details.direction === 'b_to_a' ? 'A' : 'B';
  const why =
    details.reason === 'max_age'
      ? `they waited longer than ${Number(details.max_age_s ?? 0) / 60} minutes`
      : `the buffer holds at most ${count.format(Number(details.max_frames ?? 0))} frames`;
  return {
    ts: new Date().toISOString(),
    level: 'warn',
    code: 'buffer_trimmed',
    message: `${count.format(frames)} buffered ${way} frames were dropped, the oldest first: ${why} and side ${waitingFor} was not back.`,
    details,
  };
}
