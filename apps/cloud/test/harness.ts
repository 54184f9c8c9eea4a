import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Writable } from 'node:stream';
import { loadConfig } from '../src/config';
import type { Database } from '../src/db/client';
import type { StreamEngine } from '../src/engine';
import { type RunningCloud, startCloud } from '../src/server';
import type { Backend } from './backends';

/** Log lines captured from the server, parsed. */
export class LogSink extends Writable {
  readonly raw: string[] = [];
  override _write(chunk: Buffer, _enc: BufferEncoding, done: () => void) {
    for (const line of chunk.toString('utf8').split('\n')) if (line.trim()) this.raw.push(line);
    done();
  }
  get lines(): Array<Record<string, unknown>> {
    return this.raw.map((l) => JSON.parse(l));
  }
  text(): string {
    return this.raw.join('\n');
  }
}

export type TestCloud = RunningCloud & {
  baseUrl: string;
  logs: LogSink;
  dataDir: string;
  clock: { offsetMs: number };
  stop(): Promise<void>;
};

/**
 * A real canopy-cloud on a free port, on the given backend. Its clock can be moved forward (`clock.offsetMs`)
 * to expire sessions and tokens without sleeping.
 */
export async function startTestCloud(
  backend: Backend,
  env: Record<string, string> = {},
  /** Another instance's database and engine, to run a second instance beside it. */
  shared?: { database: Database; engine: StreamEngine },
): Promise<TestCloud> {
  const { database, engine, cleanup } = shared
    ? { ...shared, cleanup: async () => {} }
    : await backend.open();
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'canopy-test-'));
  const logs = new LogSink();
  const clock = { offsetMs: 0 };
  const config = loadConfig({
    PORT: '0',
    HOST: '127.0.0.1',
    CANOPY_DATA_DIR: dataDir,
    LOG_LEVEL: 'debug',
    PUBLIC_URL: 'http://canopy.test',
    RATE_LIMIT_SIGNUP_MAX: '1000',
    ...env,
  });
  const cloud = await startCloud(config, {
    database,
    engine,
    logDestination: logs,
    now: () => new Date(Date.now() + clock.offsetMs),
  });
  return Object.assign(cloud, {
    baseUrl: `http://127.0.0.1:${cloud.port}`,
    logs,
    dataDir,
    clock,
    stop: async () => {
      await cloud.close();
      await cleanup();
      fs.rmSync(dataDir, { recursive: true, force: true });
    },
  });
}

// biome-ignore lint/suspicious/noExplicitAny: tests read whatever JSON the server sent; assertions check its shape
export type Json = any;
export type Reply = { status: number; headers: Headers; body: Json; text: string };

/** A browser-like client: keeps cookies, fetches and sends the CSRF token on unsafe methods. */
export class Client {
  readonly cookies = new Map<string, string>();
  private csrf: string | undefined;

  constructor(
    private readonly baseUrl: string,
    readonly headers: Record<string, string> = {},
  ) {}

  async request(
    method: string,
    urlPath: string,
    opts: { json?: unknown; raw?: string; headers?: Record<string, string>; csrf?: boolean } = {},
  ): Promise<Reply> {
    const headers: Record<string, string> = { ...this.headers, ...opts.headers };
    if (this.cookies.size > 0) headers.cookie = [...this.cookies].map(([k, v]) => `${k}=${v}`).join('; ');
    if (opts.csrf !== false && !['GET', 'HEAD'].includes(method)) {
      headers['x-csrf-token'] ??= await this.csrfToken();
      if (this.cookies.size > 0) headers.cookie = [...this.cookies].map(([k, v]) => `${k}=${v}`).join('; ');
    }
    let body: string | undefined;
    if (opts.json !== undefined) {
      body = JSON.stringify(opts.json);
      headers['content-type'] = 'application/json';
    } else if (opts.raw !== undefined) {
      body = opts.raw;
      headers['content-type'] ??= 'application/json';
    }
    const res = await fetch(this.baseUrl + urlPath, { method, headers, body, redirect: 'manual' });
    this.absorbCookies(res.headers);
    const text = await res.text();
    let parsed: unknown;
    try {
      parsed = text ? JSON.parse(text) : undefined;
    } catch {
      parsed = undefined;
    }
    if (/\/auth\/(login|signup|logout)$/.test(urlPath)) this.csrf = undefined;
    return { status: res.status, headers: res.headers, body: parsed, text };
  }

  get = (p: string, opts?: { headers?: Record<string, string> }) => this.request('GET', p, opts);
  post = (p: string, json?: unknown, opts?: { headers?: Record<string, string>; csrf?: boolean }) =>
    this.request('POST', p, { ...opts, json });

  async csrfToken(): Promise<string> {
    if (!this.csrf) {
      const reply = await this.get('/api/v1/auth/csrf');
      this.csrf = reply.body.csrf_token as string;
    }
    return this.csrf;
  }

  forgetCsrf() {
    this.csrf = undefined;
  }

  async signup(email: string, password = 'correct horse battery') {
    return this.post('/api/v1/auth/signup', { email, password });
  }

  async login(email: string, password = 'correct horse battery') {
    return this.post('/api/v1/auth/login', { email, password });
  }

  private absorbCookies(headers: Headers) {
    for (const cookie of headers.getSetCookie()) {
      const [pair = '', ...attrs] = cookie.split(';');
      const eq = pair.indexOf('=');
      const name = pair.slice(0, eq).trim();
      const value = pair.slice(eq + 1).trim();
      const expired = attrs.some((a) => /^\s*expires=Thu, 01 Jan 1970/i.test(a)) || value === '';
      if (expired) this.cookies.delete(name);
      else this.cookies.set(name, value);
    }
  }
}

/** Reads the newest mail the dev sink wrote for `to`, and the one-time token in its link. */
export function readMail(dataDir: string, to: string): { text: string; token: string; link: string } {
  const dir = path.join(dataDir, 'mail');
  const files = fs.existsSync(dir) ? fs.readdirSync(dir).sort() : [];
  for (const file of files.reverse()) {
    const text = fs.readFileSync(path.join(dir, file), 'utf8');
    if (!text.includes(`To: ${to}\n`)) continue;
    const link = /(https?:\/\/\S+#token=(\S+))/.exec(text);
    if (!link?.[1] || !link[2]) throw new Error(`mail to ${to} has no link`);
    return { text, link: link[1], token: link[2] };
  }
  throw new Error(`no mail to ${to} in ${dir}`);
}

export function mailCount(dataDir: string, to: string): number {
  const dir = path.join(dataDir, 'mail');
  if (!fs.existsSync(dir)) return 0;
  return fs.readdirSync(dir).filter((f) => fs.readFileSync(path.join(dir, f), 'utf8').includes(`To: ${to}\n`))
    .length;
}
