import http from 'node:http';
import { expect } from 'vitest';
import type { Json } from './harness';

export type SseEvent = { id?: string; event: string; data: Json };

/**
 * A text/event-stream client over node:http, parsing the stream as a browser's EventSource would: events
 * (id, event, data), comments, and `retry`. Non-200 answers are kept as JSON in `body`.
 */
export class SseClient {
  readonly events: SseEvent[] = [];
  readonly comments: string[] = [];
  retry?: number;
  status = 0;
  headers: http.IncomingHttpHeaders = {};
  body: Json;
  ended = false;
  res?: http.IncomingMessage;
  private buffer = '';
  private readonly req: http.ClientRequest;
  private readonly endedPromise: Promise<void>;

  private constructor(url: string, headers: Record<string, string>) {
    let markEnded: () => void = () => {};
    this.endedPromise = new Promise((resolve) => {
      markEnded = resolve;
    });
    const finish = () => {
      this.ended = true;
      markEnded();
    };
    this.req = http.get(url, { headers: { accept: 'text/event-stream', ...headers } });
    this.req.on('error', finish);
    this.req.on('response', (res) => {
      this.res = res;
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => {
        if (this.status === 200) this.parse(chunk);
        else this.buffer += chunk;
      });
      res.on('end', () => {
        if (this.status !== 200) this.body = this.buffer ? JSON.parse(this.buffer) : undefined;
        finish();
      });
      res.on('error', finish);
      res.on('close', finish);
    });
  }

  /** Opens a stream and resolves once the response headers (and, when not 200, the body) are in. */
  static async open(url: string, headers: Record<string, string> = {}): Promise<SseClient> {
    const client = new SseClient(url, headers);
    await new Promise<void>((resolve, reject) => {
      client.req.once('response', (res) => {
        client.status = res.statusCode ?? 0;
        client.headers = res.headers;
        if (client.status === 200) resolve();
        else client.endedPromise.then(() => resolve());
      });
      client.req.once('error', reject);
    });
    return client;
  }

  /** Stream events (with an id), not snapshots or resets. */
  get streamed(): SseEvent[] {
    return this.events.filter((e) => e.id !== undefined);
  }

  of(type: string): SseEvent[] {
    return this.events.filter((e) => e.event === type);
  }

  async waitFor(pred: (c: SseClient) => boolean, timeout = 5000): Promise<void> {
    await expect.poll(() => pred(this), { timeout, interval: 10 }).toBe(true);
  }

  async waitForEvents(count: number, type?: string, timeout = 5000): Promise<SseEvent[]> {
    const list = () => (type ? this.of(type) : this.streamed);
    await this.waitFor(() => list().length >= count, timeout);
    return list();
  }

  ended$(): Promise<void> {
    return this.endedPromise;
  }

  close(): void {
    this.req.destroy();
  }

  private parse(chunk: string): void {
    this.buffer += chunk;
    let end = this.buffer.indexOf('\n\n');
    while (end >= 0) {
      const block = this.buffer.slice(0, end);
      this.buffer = this.buffer.slice(end + 2);
      this.block(block);
      end = this.buffer.indexOf('\n\n');
    }
  }

  private block(block: string): void {
    let id: string | undefined;
    let event = 'message';
    const data: string[] = [];
    for (const line of block.split('\n')) {
      if (line.startsWith(':')) {
        this.comments.push(line.slice(1).trim());
        continue;
      }
      const colon = line.indexOf(':');
      const field = colon < 0 ? line : line.slice(0, colon);
      const value = colon < 0 ? '' : line.slice(colon + 1).replace(/^ /, '');
      if (field === 'id') id = value;
      else if (field === 'event') event = value;
      else if (field === 'data') data.push(value);
      else if (field === 'retry') this.retry = Number(value);
    }
    if (data.length > 0) this.events.push({ id, event, data: JSON.parse(data.join('\n')) });
  }
}
