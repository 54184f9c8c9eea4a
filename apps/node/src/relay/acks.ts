import type { Clock } from '../link/clock';
import type { Position } from './sequence';

/** ACKs go out at most this often while frames flow, and once more this long after the last write. */
export const ACK_EVERY_MS = 50;

/**
 * Paces the ACKs of one receiving side: the first write after a quiet spell starts a timer, the timer sends
 * the last written position, the next write starts the next timer. So there is one ACK per ACK_EVERY_MS at
 * most, and the last position is always sent within ACK_EVERY_MS.
 */
export class AckPacer {
  #written: Position | null = null;
  #sent: Position | null = null;
  #timer: unknown = null;

  constructor(private readonly options: { clock: Clock; send: (at: Position) => void; everyMs?: number }) {}

  /** The last frame written so far. */
  get written(): Position | null {
    return this.#written;
  }

  wrote(at: Position): void {
    this.#written = at;
    if (this.#timer !== null) return;
    this.#timer = this.options.clock.setTimeout(() => {
      this.#timer = null;
      this.flush();
    }, this.options.everyMs ?? ACK_EVERY_MS);
  }

  /** Sends the last position now if it was not sent (a leave, a stop). */
  flush(): void {
    if (this.#timer !== null) {
      this.options.clock.clearTimeout(this.#timer);
      this.#timer = null;
    }
    const at = this.#written;
    if (!at || (this.#sent && this.#sent.epoch === at.epoch && this.#sent.seq === at.seq)) return;
    this.#sent = at;
    this.options.send(at);
  }

  close(): void {
    if (this.#timer !== null) this.options.clock.clearTimeout(this.#timer);
    this.#timer = null;
  }
}
