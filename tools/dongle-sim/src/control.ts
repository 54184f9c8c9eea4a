import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { z } from 'zod';
import { canConfigJson, dongleJson, sinkJson, summaryJson, trafficJson } from './control-json';
import { CliKnobsBody, FramesBody, TrafficBody } from './control-schema';
import type { Dongle } from './dongle';

/*
 * The control interface: HTTP JSON on 127.0.0.1 only, for tests and people — what a person would do with the
 * dongle in hand (press the pairing button, read the PIN off the display, factory-reset it) and the knobs a
 * test needs (slow or long CLI output, a failing CAN config apply, bus traffic, the sink's records).
 * Errors are {code, message, details}: 400 VALIDATION_ERROR, 404 NOT_FOUND, 409 CONFLICT, 413 PAYLOAD_TOO_LARGE.
 */

const MAX_BODY_BYTES = 1024 * 1024;

export interface ControlContext {
  dongles: Dongle[];
  /** GET /dongles also says where the simulator listens. */
  about(): Record<string, unknown>;
}

class HttpError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly details: Record<string, unknown> = {},
  ) {
    super(message);
  }
}

type Handler = (dongle: Dongle, body: unknown) => unknown;

/** Routes under /dongles/:id, by method and the rest of the path. */
const ROUTES: Record<string, Handler> = {
  'GET ': (d) => dongleJson(d),
  'POST /pairing-mode': (d) => {
    const outcome = d.pressPairingButton();
    if (outcome.status === 'cooldown') {
      throw new HttpError(409, 'CONFLICT', `the dongle is in cooldown for ${outcome.seconds} s`, {
        seconds: outcome.seconds,
      });
    }
    return {
      pin: outcome.pin,
      pairing_nonce: Buffer.from(outcome.nonce).toString('hex'),
      seconds: outcome.seconds,
      fresh: outcome.fresh,
    };
  },
  'POST /factory-reset': (d) => {
    d.factoryReset();
    return dongleJson(d);
  },
  'POST /cli': (d, body) => {
    const knobs = parse(CliKnobsBody, body);
    if (knobs.delay_ms !== undefined) d.knobs.cliDelayMs = knobs.delay_ms;
    if (knobs.pad_bytes !== undefined) d.knobs.padBytes = knobs.pad_bytes;
    return { delay_ms: d.knobs.cliDelayMs, pad_bytes: d.knobs.padBytes };
  },
  'POST /can-config/fail-next': (d) => {
    d.knobs.failNextApply = true;
    return { fail_next: true, can_config: canConfigJson(d.canConfig) };
  },
  'GET /traffic': (d) => trafficJson(d.bus.trafficStatus()),
  'POST /traffic': (d, body) => {
    const plan = parse(TrafficBody, body);
    needRemote(d);
    return trafficJson(d.bus.startTraffic(plan));
  },
  'DELETE /traffic': (d) => trafficJson(d.bus.stopTraffic()),
  'GET /sink': (d) => sinkJson(d.bus.sink.report()),
  'DELETE /sink': (d) => {
    d.bus.sink.reset();
    return sinkJson(d.bus.sink.report());
  },
  'POST /frames': (d, body) => {
    const frames = parse(FramesBody, body);
    needRemote(d);
    for (const frame of frames) d.bus.put(frame);
    return { sent: frames.length, remote: d.remote };
  },
};

export interface Control {
  port: number;
  close(): Promise<void>;
}

export async function startControl(port: number, context: ControlContext): Promise<Control> {
  const server = createServer((req, res) => {
    handle(req, context)
      .then((result) => reply(res, 200, result))
      .catch((err: unknown) => {
        const e =
          err instanceof HttpError
            ? err
            : new HttpError(500, 'INTERNAL_ERROR', err instanceof Error ? err.message : String(err));
        reply(res, e.status, { code: e.code, message: e.message, details: e.details });
      });
  });
  await listen(server, port);
  return {
    port: (server.address() as AddressInfo).port,
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

async function handle(req: IncomingMessage, context: ControlContext): Promise<unknown> {
  const method = req.method ?? 'GET';
  const path = new URL(req.url ?? '/', 'http://127.0.0.1').pathname.replace(/\/+$/, '');
  const body = await readBody(req);
  if (path === '/dongles' && method === 'GET') {
    return { ...context.about(), dongles: context.dongles.map(summaryJson) };
  }
  const match = /^\/dongles\/([^/]+)(\/.*)?$/.exec(path);
  const handler = match ? ROUTES[`${method} ${match[2] ?? ''}`] : undefined;
  if (match === null || handler === undefined) {
    throw new HttpError(404, 'NOT_FOUND', `no route ${method} ${path}`);
  }
  const key = decodeURIComponent(match[1] as string).toLowerCase();
  const dongle = context.dongles.find((d) => d.deviceId === key || String(d.identity.index) === key);
  if (dongle === undefined) {
    throw new HttpError(404, 'NOT_FOUND', `no dongle ${key} (a device id or an index)`, { dongle: key });
  }
  return handler(dongle, body);
}

function parse<T extends z.ZodType>(schema: T, body: unknown): z.output<T> {
  const parsed = schema.safeParse(body ?? {});
  if (parsed.success) return parsed.data;
  const fields = parsed.error.issues.map((issue) => ({
    path: issue.path.length > 0 ? issue.path.join('.') : '(body)',
    message: issue.message,
  }));
  throw new HttpError(400, 'VALIDATION_ERROR', fields.map((f) => `${f.path}: ${f.message}`).join('; '), {
    fields,
  });
}

function needRemote(d: Dongle): void {
  if (d.remote === undefined) {
    throw new HttpError(
      409,
      'CONFLICT',
      'no remote yet: frames go to the sender of the last authenticated REMP message, and none came',
    );
  }
}

async function readBody(req: IncomingMessage): Promise<unknown> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > MAX_BODY_BYTES) throw new HttpError(413, 'PAYLOAD_TOO_LARGE', 'the body is over 1 MB');
    chunks.push(chunk as Buffer);
  }
  const text = Buffer.concat(chunks).toString('utf8').trim();
  if (text === '') return undefined;
  try {
    return JSON.parse(text);
  } catch {
    throw new HttpError(400, 'VALIDATION_ERROR', 'the body is not JSON', {
      fields: [{ path: '(body)', message: 'not JSON' }],
    });
  }
}

function reply(res: ServerResponse, status: number, body: unknown): void {
  const text = `${JSON.stringify(body, null, 2)}\n`;
  res.writeHead(status, {
    'content-type': 'application/json; charset=utf-8',
    'content-length': Buffer.byteLength(text),
  });
  res.end(text);
}

function listen(server: Server, port: number): Promise<void> {
  return new Promise((resolve, reject) => {
    server.once('error', (err) => reject(new Error(`cannot listen on 127.0.0.1:${port}: ${err.message}`)));
    server.listen(port, '127.0.0.1', () => resolve());
  });
}
