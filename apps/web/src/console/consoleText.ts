import type { Way, WayFilter } from './filter';
import type { Notice } from './model';

/** Direction column and filter labels: across a group, or on one dongle's bus. */
export const WAY_LABELS: Record<Way, string> = { a_to_b: 'A → B', b_to_a: 'B → A', rx: 'RX', tx: 'TX' };

export const WAY_CHOICES = {
  group: [
    ['all', 'Both directions'],
    ['a_to_b', 'A → B'],
    ['b_to_a', 'B → A'],
  ],
  dongle: [
    ['all', 'RX and TX'],
    ['rx', 'RX (read off its bus)'],
    ['tx', 'TX (written to its bus)'],
  ],
} as const satisfies Record<'group' | 'dongle', readonly (readonly [WayFilter, string])[]>;

const count = new Intl.NumberFormat('en-US');
export const formatCount = (n: number) => count.format(n);

/** "15:31:02.123" in the browser's time zone; the ISO text as it is if it is not a time. */
export function formatTime(iso: string): string {
  const date = new Date(iso);
  if (Number.isNaN(date.getTime())) return iso;
  const two = (n: number) => String(n).padStart(2, '0');
  return `${two(date.getHours())}:${two(date.getMinutes())}:${two(date.getSeconds())}.${String(date.getMilliseconds()).padStart(3, '0')}`;
}

/** "0x7E8"; 29-bit ids with all eight digits, as CAN tools show them. */
export function formatCanId(id: number, extended: boolean): string {
  return `0x${id
    .toString(16)
    .toUpperCase()
    .padStart(extended ? 8 : 3, '0')}`;
}

/** "02 01 0C 00": the payload a byte at a time. */
export function spacedHex(data: string): string {
  return data.replace(/(..)(?!$)/g, '$1 ');
}

/** "12 frames", "1 frame". */
export function frameCount(n: number): string {
  return `${count.format(n)} ${n === 1 ? 'frame' : 'frames'}`;
}

/** A backlog in words: "none", "12,034 frames", "3,000 frames left, 75 % sent". */
export function backlogText(frames: number, progress: number | null): string {
  if (frames === 0) return 'none';
  if (progress === null) return frameCount(frames);
  return `${frameCount(frames)} left, ${Math.floor(progress * 100)} % sent`;
}

/** The server's notices in the console's own words where it knows the kind, else as the server put them. */
export function noticeText(notice: Notice): string {
  switch (notice.code) {
    case 'console_sampling': {
      const busy = notice.ratePerS ? ` (about ${count.format(notice.ratePerS)} frames/s)` : '';
      const sample = notice.oneIn ? `1 in ${notice.oneIn} frames` : 'a sample of the frames';
      return `The bus is busier than the console can show${busy}: it shows ${sample}. Every frame is still relayed.`;
    }
    case 'console_sampling_stopped':
      return 'The console shows every frame again.';
    case 'console_unavailable':
      return 'The live console was unavailable for a moment; it reconnects by itself.';
    case 'command_queued':
      return `Command "${notice.message}" queued.`;
    case 'command_running':
      return `Command "${notice.message}" running.`;
    case 'command_done':
      return `Command "${notice.message}" finished.`;
    case 'command_error':
      return `Command "${notice.message}" failed.`;
    case 'command_timeout':
      return `Command "${notice.message}" took too long.`;
    default:
      return notice.message;
  }
}
