import type { Response } from 'express';
import type { Logger } from '../log';
import { type ConsoleEntry, dataFor } from './entry';
import type { ConsoleSink } from './tap';

export type SseOptions = {
  /** The SSE request's own id: in the first comment line, and in events that name no request of their own. */
  requestId: string;
  /** A comment line this often keeps proxies and browsers from timing the connection out. */
  keepAliveMs: number;
  /** The reconnect delay the client is told (`retry:`). */
  retryMs: number;
  /** Bytes waiting for a slow client, past which the connection is dropped (the client resumes). */
  maxQueueBytes: number;
  log: Logger;
};

/** A catch-up pauses while more than this waits for the client. */
const HIGH_WATER = 64 * 1024;

/**
 * One text/event-stream response. What the client has not taken yet waits in the response's buffer; a client
 * that lets more than maxQueueBytes pile up is dropped rather than let memory grow.
 */
export class SseConnection implements ConsoleSink {
  private closed = false;
  private readonly keepAlive: NodeJS.Timeout;

  constructor(
    private readonly res: Response,
    private readonly options: SseOptions,
  ) {
    res.status(200);
    res.setHeader('Content-Type', 'text/event-stream; charset=utf-8');
    res.setHeader('Cache-Control', 'no-cache, no-transform');
    res.setHeader('Connection', 'keep-alive');
    res.setHeader('X-Accel-Buffering', 'no');
    res.flushHeaders();
    res.socket?.setNoDelay(true);
    this.write(`: request_id ${options.requestId}\nretry: ${options.retryMs}\n\n`);
    this.keepAlive = setInterval(() => this.write(': keep-alive\n\n'), options.keepAliveMs);
    res.on('close', () => this.stop());
  }

  get isClosed(): boolean {
    return this.closed;
  }

  /** A stream event: `id`, `event`, `data`. */
  event(entry: ConsoleEntry): void {
    this.write(this.format(entry));
  }

  /** Events in one write: with hundreds of subscribers, a write per event each was most of the cost. */
  events(entries: ConsoleEntry[]): void {
    if (entries.length === 1) this.event(entries[0] as ConsoleEntry);
    else if (entries.length > 1) this.write(entries.map((e) => this.format(e)).join(''));
  }

  private format(entry: ConsoleEntry): string {
    return `id: ${entry.id}\nevent: ${entry.type}\ndata: ${dataFor(entry, this.options.requestId)}\n\n`;
  }

  /** An event that is not in the stream (a snapshot, a stream_reset): no id, so Last-Event-ID stays put. */
  send(type: string, data: Record<string, unknown>): void {
    const json = JSON.stringify({ request_id: this.options.requestId, ...data });
    this.write(`event: ${type}\ndata: ${json}\n\n`);
  }

  drained(): Promise<void> {
    if (this.closed || this.res.writableLength <= HIGH_WATER) return Promise.resolve();
    return new Promise((resolve) => {
      const done = () => {
        this.res.off('drain', done);
        this.res.off('close', done);
        resolve();
      };
      this.res.on('drain', done);
      this.res.on('close', done);
    });
  }

  fail(reason: string): void {
    if (this.closed) return;
    this.options.log.info({ reason }, 'live console connection ended');
    this.end();
  }

  /** Ends the response normally (the client reconnects after `retry`). */
  end(): void {
    if (this.closed) return;
    this.stop();
    this.res.end();
  }

  private write(chunk: string): void {
    if (this.closed) return;
    this.res.write(chunk);
    if (this.res.writableLength > this.options.maxQueueBytes) {
      this.options.log.warn(
        { queued_bytes: this.res.writableLength, limit: this.options.maxQueueBytes },
        'live console client too slow; dropping the connection (it resumes with Last-Event-ID)',
      );
      this.stop();
      this.res.destroy();
    }
  }

  private stop(): void {
    if (this.closed) return;
    this.closed = true;
    clearInterval(this.keepAlive);
  }
}
