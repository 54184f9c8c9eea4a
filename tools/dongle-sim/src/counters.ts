import type { BusFrame } from './ecu';
import { idKey } from './sink';

/** What a dongle counts (shown by `remote stats` and the control interface). */
export function newCounters() {
  return {
    datagrams_in: 0,
    datagrams_out: 0,
    /** CAN frames the remote sent, and those it was sent. */
    frames_from_remote: 0,
    frames_to_remote: 0,
    /** Frames from the remote that the controller mode kept off the bus. */
    frames_not_sent: 0,
    /** Frames off the bus dropped because no remote is known yet. */
    frames_no_remote: 0,
    auth_failures: 0,
    malformed: 0,
    /** Well-formed messages a dongle does not take (responses sent to it). */
    unexpected: 0,
    send_errors: 0,
    discovers_answered: 0,
  };
}
export type Counters = ReturnType<typeof newCounters>;

/** Distinct CAN ids counted one by one; hostile traffic with random ids is summed under "other" past this. */
const MAX_COUNTED_IDS = 1024;

/** Frames per CAN id, each way: rx from the remote, tx to it. */
export class IdCounters {
  readonly #ids = new Map<string, { rx: number; tx: number }>();

  count(frame: BusFrame, direction: 'rx' | 'tx'): void {
    let key = idKey(frame);
    if (!this.#ids.has(key) && this.#ids.size >= MAX_COUNTED_IDS) key = 'other';
    let c = this.#ids.get(key);
    if (c === undefined) {
      c = { rx: 0, tx: 0 };
      this.#ids.set(key, c);
    }
    c[direction]++;
  }

  rows(): Array<{ id: string; rx: number; tx: number }> {
    return [...this.#ids].map(([id, c]) => ({ id, ...c }));
  }
}
