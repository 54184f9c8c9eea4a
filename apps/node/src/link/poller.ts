import type { PollResponse } from '@canopy/protocol';
import type { Logger } from 'pino';
import { type Clock, sleep } from './clock';
import { errorText } from './http';

export const POLL_WAIT_S = 25;
/** Pause after a failed poll; doubles while polls keep failing, up to the cap. */
const POLL_ERROR_DELAY_MS = 5000;
const POLL_ERROR_CAP_MS = 60_000;
/** A poll that answers empty faster than this is followed by a pause, so a server ignoring wait_s is not spun on. */
const MIN_EMPTY_POLL_MS = 1000;

export type PollerOptions = {
  clock: Clock;
  log: Logger;
  /** GET /agents/poll?cursor=…&wait_s=25 with the session token. */
  poll: (cursor: number, signal: AbortSignal) => Promise<PollResponse>;
  /** The highest cursor delivered so far (sent back as the acknowledgement). */
  cursor: () => number;
  deliver: (response: PollResponse) => Promise<void>;
};

/** The HTTP fallback: long polls in a loop until stopped. */
export class Poller {
  private controller: AbortController | null = null;

  constructor(private readonly options: PollerOptions) {}

  get running(): boolean {
    return this.controller !== null;
  }

  start(): void {
    if (this.controller) return;
    const controller = new AbortController();
    this.controller = controller;
    void this.loop(controller.signal);
  }

  stop(): void {
    this.controller?.abort();
    this.controller = null;
  }

  /** Drops the poll in flight (probably dead after a sleep) and polls again at once. */
  restart(): void {
    if (!this.controller) return;
    this.stop();
    this.start();
  }

  private async loop(signal: AbortSignal): Promise<void> {
    const { clock, log } = this.options;
    let failures = 0;
    while (!signal.aborted) {
      const started = clock.now();
      try {
        const response = await this.options.poll(this.options.cursor(), signal);
        if (signal.aborted) return;
        failures = 0;
        await this.options.deliver(response);
        if (response.messages.length === 0 && clock.now() - started < MIN_EMPTY_POLL_MS) {
          await sleep(clock, POLL_ERROR_DELAY_MS, signal);
        }
      } catch (err) {
        if (signal.aborted) return;
        failures += 1;
        const delay = Math.min(POLL_ERROR_CAP_MS, POLL_ERROR_DELAY_MS * 2 ** (failures - 1));
        log.warn({ err: errorText(err), attempt: failures, delay_ms: delay }, 'poll failed; retrying');
        await sleep(clock, delay, signal);
      }
    }
  }
}
