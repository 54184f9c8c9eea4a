/**
 * Admits node handshakes a few at a time, in arrival order. After a cloud restart every node reconnects
 * within about a second; run all at once, their database work interleaves and every handshake finishes late
 * together, so many pass the node's handshake timeout and back off for tens of seconds. Run `limit` at a time,
 * the early ones finish at once and the queue drains at the database's pace. Past `maxQueued` waiting, a new
 * handshake is refused (the caller answers 503 with Retry-After) rather than queued without bound.
 */
export class HandshakeGate {
  private active = 0;
  private readonly waiting: Array<() => void> = [];

  constructor(
    private readonly limit: number,
    private readonly maxQueued: number,
  ) {}

  /** Handshakes waiting for a slot. */
  get queued(): number {
    return this.waiting.length;
  }

  /** False when the queue is full: refuse this handshake. */
  get hasRoom(): boolean {
    return this.active < this.limit || this.waiting.length < this.maxQueued;
  }

  /** Runs `work` when a slot is free; the slot passes to the next in line when it settles. */
  async run<T>(work: () => Promise<T>): Promise<T> {
    if (this.active < this.limit) this.active++;
    else await new Promise<void>((resolve) => this.waiting.push(resolve));
    try {
      return await work();
    } finally {
      const next = this.waiting.shift();
      if (next) next();
      else this.active--;
    }
  }
}
