import { toHex } from '@canopy/remp';
import type { BusFrame } from './ecu';

/*
 * The sink: a device on the simulated bus that records every frame the remote writes to it. For frames of 4+
 * bytes, data[0..3] is a big-endian u32 sequence number per CAN id (what the traffic generator's `counter`
 * pattern sends): the first frame of an id sets the baseline, a jump forward is a gap (its numbers are
 * missing until they arrive late, out of order), a number seen before is a duplicate.
 */

/** Missing numbers remembered per id; past this a late arrival is counted as a duplicate. */
const MAX_REMEMBERED_MISSING = 65536;
const RECENT_FRAMES = 64;

export interface IdStats {
  frames: number;
  /** Frames of 4+ bytes, whose data[0..3] was read as a sequence number. */
  sequenced: number;
  firstSeq: number | undefined;
  lastSeq: number | undefined;
  /** Jumps forward (each may miss several numbers). */
  gaps: number;
  /** Numbers skipped and not (yet) arrived. */
  missing: number;
  duplicates: number;
  /** Numbers that arrived after a later one (filling a gap). */
  outOfOrder: number;
}

export interface SinkReport {
  frames: number;
  totals: { gaps: number; missing: number; duplicates: number; outOfOrder: number };
  firstAt: number | undefined;
  lastAt: number | undefined;
  perId: Record<string, IdStats>;
  recent: Array<{ id: string; data: string; at: number }>;
}

interface IdState extends IdStats {
  next: number | undefined;
  missingSet: Set<number>;
}

export class Sink {
  #frames = 0;
  #firstAt: number | undefined;
  #lastAt: number | undefined;
  #ids = new Map<string, IdState>();
  #recent: Array<{ id: string; data: string; at: number }> = [];

  record(frame: BusFrame, at: number): void {
    this.#frames++;
    this.#firstAt ??= at;
    this.#lastAt = at;
    const key = idKey(frame);
    this.#recent.push({ id: key, data: toHex(frame.data), at });
    if (this.#recent.length > RECENT_FRAMES) this.#recent.shift();
    let s = this.#ids.get(key);
    if (s === undefined) {
      s = {
        frames: 0,
        sequenced: 0,
        firstSeq: undefined,
        lastSeq: undefined,
        gaps: 0,
        missing: 0,
        duplicates: 0,
        outOfOrder: 0,
        next: undefined,
        missingSet: new Set(),
      };
      this.#ids.set(key, s);
    }
    s.frames++;
    if (frame.data.length < 4) return;
    const d = frame.data;
    const seq =
      (((d[0] as number) << 24) | ((d[1] as number) << 16) | ((d[2] as number) << 8) | (d[3] as number)) >>>
      0;
    s.sequenced++;
    s.lastSeq = seq;
    if (s.next === undefined) {
      s.firstSeq = seq;
      s.next = seq + 1;
    } else if (seq === s.next) {
      s.next = seq + 1;
    } else if (seq > s.next) {
      s.gaps++;
      s.missing += seq - s.next;
      for (let n = s.next; n < seq && s.missingSet.size < MAX_REMEMBERED_MISSING; n++) s.missingSet.add(n);
      s.next = seq + 1;
    } else if (s.missingSet.delete(seq)) {
      s.outOfOrder++;
      s.missing--;
    } else {
      s.duplicates++;
    }
  }

  report(): SinkReport {
    const perId: Record<string, IdStats> = {};
    const totals = { gaps: 0, missing: 0, duplicates: 0, outOfOrder: 0 };
    for (const [key, s] of [...this.#ids].sort(([a], [b]) => a.localeCompare(b))) {
      const { next: _next, missingSet: _set, ...stats } = s;
      perId[key] = stats;
      totals.gaps += s.gaps;
      totals.missing += s.missing;
      totals.duplicates += s.duplicates;
      totals.outOfOrder += s.outOfOrder;
    }
    return {
      frames: this.#frames,
      totals,
      firstAt: this.#firstAt,
      lastAt: this.#lastAt,
      perId,
      recent: [...this.#recent],
    };
  }

  reset(): void {
    this.#frames = 0;
    this.#firstAt = undefined;
    this.#lastAt = undefined;
    this.#ids.clear();
    this.#recent = [];
  }
}

/** How CAN ids are named in reports: 3 hex digits for 11-bit ids (0x7e8), 8 for 29-bit ones (0x18daf110). */
export const idKey = (frame: { id: number; extended: boolean }) =>
  `0x${frame.id.toString(16).padStart(frame.extended ? 8 : 3, '0')}`;
