import type { CanFrameEvent, ConsoleEvent, Group } from '@canopy/protocol';
import { parseConsoleEvent } from './events';
import type { Way } from './filter';
import { fromGroup, type GroupLive, withGroupState } from './groupLive';
import { RateMeter } from './rate';
import { Ring } from './ring';

/** The console keeps this many frames; older ones make room (spec 002 §18.3 keeps as many to resume from). */
export const MAX_FRAMES = 10_000;
const MAX_NOTICES = 20;
/**
 * The relay says a group's state as it changes (every 2 s while a backlog drains); for this long after it did,
 * the group page's regular GET (which may have been answered just before) does not overwrite it.
 */
export const GROUP_STATE_FRESH_MS = 5_000;

/** What a console watches: a group (its two dongles, to tell the directions apart) or one dongle. */
export type ConsoleSource =
  | { kind: 'group'; id: string; a: string; b: string }
  | { kind: 'dongle'; id: string };

export type ShownFrame = {
  /** Arrival number in this console, from 1: newer frames have larger ones. */
  n: number;
  /** The frame's own time (ISO), from the dongle's node. */
  ts: string;
  way: Way;
  id: number;
  extended: boolean;
  dlc: number;
  /** Uppercase hex, two characters a byte. */
  data: string;
};

/** A line of the console's event list: a log event or a command's progress. */
export type Notice = {
  key: number;
  ts: string;
  level: 'debug' | 'info' | 'warn' | 'error';
  code?: string;
  message: string;
  /** For sampling notices: 1 in how many frames is shown, at about what rate. */
  oneIn?: number;
  ratePerS?: number;
};

/**
 * The state of one live console, fed one SSE message at a time: the newest 10,000 frames, the frame rate,
 * sampling, presence, the group's state, notices, and pause. No I/O and no timers: the caller passes the time,
 * and `version` tells it when there is something new to draw.
 */
export class ConsoleModel {
  private readonly ring = new Ring<ShownFrame>(MAX_FRAMES);
  readonly rate = new RateMeter(60);
  /** Messages that were not a console event or did not match its schema. */
  ignored = 0;
  /** The console shows 1 in `oneIn` frames (the server samples above 500 frames/s); 1 when it shows all. */
  oneIn = 1;
  /** When the server last said events were missed (`stream_reset`), or null. */
  resetAt: number | null = null;
  group: GroupLive | null = null;
  private groupStateAt: number | null = null;
  readonly presence = new Map<string, boolean>();
  notices: Notice[] = [];
  version = 0;
  private paused: { frames: ShownFrame[]; total: number } | null = null;
  private cache: { total: number; frames: ShownFrame[] } | null = null;
  private noticeKey = 0;

  constructor(readonly source: ConsoleSource) {}

  /** One SSE message; false when it was ignored. */
  receive(type: string, data: string, atMs: number): boolean {
    const event = parseConsoleEvent(type, data);
    if (!event || !this.apply(event, atMs)) {
      this.ignored += 1;
      this.version += 1;
      return false;
    }
    return true;
  }

  apply(event: ConsoleEvent, atMs: number): boolean {
    switch (event.type) {
      case 'can_frame': {
        const way = this.wayOf(event.data);
        if (!way) return false;
        this.ring.push({
          n: this.ring.total + 1,
          ts: event.data.ts,
          way,
          id: Number.parseInt(event.data.id.slice(2), 16),
          extended: event.data.is_extended,
          dlc: event.data.dlc,
          data: event.data.data,
        });
        this.rate.add(atMs);
        break;
      }
      case 'log': {
        const { code, details } = event.data;
        if (code === 'console_sampling' || code === 'console_sampling_stopped') {
          const oneIn = Number(details?.one_in);
          this.oneIn = code === 'console_sampling' && Number.isInteger(oneIn) && oneIn > 1 ? oneIn : 1;
        }
        const ratePerS = Number(details?.rate_per_s);
        this.notice({
          ts: event.data.ts,
          level: event.data.level,
          code,
          message: event.data.message,
          ...(code === 'console_sampling' ? { oneIn: this.oneIn } : {}),
          ...(Number.isFinite(ratePerS) && ratePerS > 0 ? { ratePerS } : {}),
        });
        break;
      }
      case 'command_status': {
        const { command, status, at } = event.data;
        const level = status === 'error' || status === 'timeout' ? 'error' : 'info';
        this.notice({ ts: at, level, code: `command_${status}`, message: command });
        break;
      }
      case 'presence': {
        this.presence.set(event.data.dongle_id, event.data.online);
        const side =
          this.source.kind !== 'group'
            ? null
            : event.data.dongle_id === this.source.a
              ? 'a'
              : event.data.dongle_id === this.source.b
                ? 'b'
                : null;
        // A group console hears its dongles' presence too: a side shows offline as soon as its node says so,
        // before the relay's next check calls the group degraded.
        if (side && this.group)
          this.group = { ...this.group, online: { ...this.group.online, [side]: event.data.online } };
        break;
      }
      case 'group_state':
        if (this.source.kind !== 'group' || event.data.group_id !== this.source.id || !this.group)
          return false;
        this.group = withGroupState(this.group, event.data);
        this.groupStateAt = atMs;
        break;
      case 'stream_reset':
        this.resetAt = atMs;
        break;
    }
    this.version += 1;
    return true;
  }

  /** The group as its page last loaded it: the starting point, then a correction when the stream is quiet. */
  seedGroup(group: Group, atMs: number): void {
    if (this.groupStateAt !== null && atMs - this.groupStateAt < GROUP_STATE_FRESH_MS) return;
    this.group = fromGroup(group, this.group ?? undefined);
    this.version += 1;
  }

  get isPaused(): boolean {
    return this.paused !== null;
  }

  /** Frames ever received by this console. */
  get received(): number {
    return this.ring.total;
  }

  /** Frames received since the pause (not shown until resumed). */
  get newWhilePaused(): number {
    return this.paused ? this.ring.total - this.paused.total : 0;
  }

  pause(): void {
    if (this.paused) return;
    this.paused = { frames: this.live(), total: this.ring.total };
    this.version += 1;
  }

  resume(): void {
    if (!this.paused) return;
    this.paused = null;
    this.version += 1;
  }

  /** The frames to show, newest first: the newest 10,000 live, or those there were when paused. */
  frames(): ShownFrame[] {
    return this.paused ? this.paused.frames : this.live();
  }

  private live(): ShownFrame[] {
    let cache = this.cache;
    if (cache?.total !== this.ring.total) {
      cache = { total: this.ring.total, frames: this.ring.newestFirst() };
      this.cache = cache;
    }
    return cache.frames;
  }

  private notice(notice: Omit<Notice, 'key'>): void {
    this.noticeKey += 1;
    this.notices = [{ key: this.noticeKey, ...notice }, ...this.notices].slice(0, MAX_NOTICES);
  }

  /** Across a group: A → B when side A's dongle read it (or B's was given it), B → A the other way. */
  private wayOf(frame: CanFrameEvent): Way | null {
    if (this.source.kind === 'dongle') return frame.dongle_id === this.source.id ? frame.direction : null;
    const fromA = frame.dongle_id === this.source.a;
    if (!fromA && frame.dongle_id !== this.source.b) return null;
    return fromA === (frame.direction === 'rx') ? 'a_to_b' : 'b_to_a';
  }
}
