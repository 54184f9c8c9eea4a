import type { BusFrame } from './ecu';
import { idKey } from './sink';

/*
 * The traffic generator's arithmetic, without timers: which frames, and how many are owed at a given time.
 * A timer (traffic-runner.ts) fires every few milliseconds and sends what is owed in one batch, so the rate
 * holds on average however late the timer fires; one setTimeout per frame could not reach 9,000 frames/s.
 */

/** A full 1 Mbit/s bus carries about 9,000 8-byte frames a second. */
export const MAX_RATE = 9000;
/** The pacing timer's period. */
export const TICK_MS = 4;
/** At most this many frames per tick: after a stall the generator catches up, but not all at once. */
export const MAX_BATCH = 256;

export type Pattern = { kind: 'counter' } | { kind: 'random' } | { kind: 'fixed'; data: Uint8Array };

export interface TrafficPlan {
  /** Frames per second, 1–9000. */
  rate: number;
  /** Sent round-robin. */
  ids: Array<{ id: number; extended: boolean }>;
  pattern: Pattern;
  /** Data length for `counter` (4–8) and `random` (0–8); `fixed` sends its own bytes. */
  dlc: number;
  /** Stop after this many frames … */
  count?: number;
  /** … or after this long; with neither, run until stopped. */
  durationMs?: number;
  /** Seeds the `random` pattern, so a run can be repeated. */
  seed?: number;
}

/** The frames a plan sends in all, or undefined when it runs until stopped. */
export function plannedTotal(plan: Pick<TrafficPlan, 'rate' | 'count' | 'durationMs'>): number | undefined {
  const byDuration =
    plan.durationMs === undefined ? undefined : Math.max(1, Math.floor((plan.durationMs * plan.rate) / 1000));
  if (plan.count === undefined) return byDuration;
  return byDuration === undefined ? plan.count : Math.min(plan.count, byDuration);
}

/**
 * How many frames to send now, `elapsedMs` after the start with `sent` already sent: frame i is due at
 * i / rate seconds (the first at once), capped by the total and by `maxBatch`.
 */
export function framesOwed(
  elapsedMs: number,
  rate: number,
  sent: number,
  total: number | undefined,
  maxBatch = MAX_BATCH,
): number {
  let due = Math.floor((Math.max(0, elapsedMs) * rate) / 1000) + 1;
  if (total !== undefined) due = Math.min(due, total);
  return Math.max(0, Math.min(maxBatch, due - sent));
}

/** Frames per second actually reached: frame i was due at i / rate, so (sent - 1) frames over the time to the last. */
export function achievedRate(sent: number, lastSentMs: number): number {
  if (sent < 2 || lastSentMs <= 0) return 0;
  return ((sent - 1) * 1000) / lastSentMs;
}

/** The frames of a plan, in order: ids round-robin; `counter` puts a u32 BE sequence per id in data[0..3]. */
export class FrameSource {
  readonly #plan: TrafficPlan;
  readonly #counters = new Map<string, number>();
  #index = 0;
  #random: number;

  constructor(plan: TrafficPlan) {
    if (plan.ids.length === 0) throw new RangeError('a traffic plan needs at least one CAN id');
    this.#plan = plan;
    this.#random = (plan.seed ?? 0x2545f491) >>> 0 || 1;
  }

  next(): BusFrame {
    const { id, extended } = this.#plan.ids[this.#index % this.#plan.ids.length] as BusFrame;
    this.#index++;
    const pattern = this.#plan.pattern;
    if (pattern.kind === 'fixed') return { id, extended, data: pattern.data.slice() };
    const data = new Uint8Array(this.#plan.dlc);
    if (pattern.kind === 'random') {
      for (let i = 0; i < data.length; i++) data[i] = this.#nextRandom() & 0xff;
    } else {
      const key = idKey({ id, extended });
      const seq = this.#counters.get(key) ?? 0;
      this.#counters.set(key, (seq + 1) >>> 0);
      new DataView(data.buffer).setUint32(0, seq);
      for (let i = 4; i < data.length; i++) data[i] = i; // recognisable filler
    }
    return { id, extended, data };
  }

  /** xorshift32: fast, seeded, good enough for payload bytes. */
  #nextRandom(): number {
    let x = this.#random;
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    this.#random = x >>> 0;
    return this.#random >>> 24;
  }
}

/** Reads a pattern: `counter`, `random` or `fixed:<hex>` (0–8 bytes); undefined if malformed. */
export function parsePattern(text: string): Pattern | undefined {
  if (text === 'counter') return { kind: 'counter' };
  if (text === 'random') return { kind: 'random' };
  const fixed = /^fixed:((?:[0-9a-fA-F]{2}){0,8})$/.exec(text);
  if (fixed === null) return undefined;
  return {
    kind: 'fixed',
    data: Uint8Array.from((fixed[1] as string).match(/../g) ?? [], (h) => Number.parseInt(h, 16)),
  };
}
