import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { createSocket, type Socket } from 'node:dgram';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  type DiscoveryMessage,
  datagramKind,
  decodeDiscovery,
  decodeRemp,
  encodeRemp,
  type RempBody,
  type RempMessage,
} from '@canopy/remp';

/* For the end-to-end test: the built simulator as a child process, and a UDP "agent" on loopback. */

const PACKAGE = fileURLToPath(new URL('..', import.meta.url));
const BIN = join(PACKAGE, 'bin', 'canopy-dongle-sim.js');
const DIST = join(PACKAGE, 'dist', 'cli.js');

/** Builds dist/cli.js when it is missing or older than a source file (`npm run build` is what CI runs). */
export function ensureBuilt(): void {
  const newestSource = Math.max(
    ...readdirSync(join(PACKAGE, 'src')).map((f) => statSync(join(PACKAGE, 'src', f)).mtimeMs),
    statSync(join(PACKAGE, '..', '..', 'packages', 'remp', 'src', 'remp.ts')).mtimeMs,
  );
  if (existsSync(DIST) && statSync(DIST).mtimeMs >= newestSource) return;
  execFileSync(process.execPath, [join(PACKAGE, 'build.mjs')], { cwd: PACKAGE, stdio: 'inherit' });
}

export interface SimProcess {
  child: ChildProcess;
  control: string;
  dongles: Array<{ deviceId: string; port: number }>;
  output: string[];
  /** Waits for the process to exit; resolves with its exit code. */
  exited: Promise<number | null>;
  /** SIGTERM (when still running), then its exit code. */
  stop(): Promise<number | null>;
  api<T = Record<string, unknown>>(
    method: string,
    path: string,
    body?: unknown,
  ): Promise<{ status: number; body: T }>;
}

/**
 * Starts the simulator and waits for its `control:` line. `prefix` runs it through another program, e.g.
 * `['ip', 'netns', 'exec', ns]` (its control interface is then on that namespace's loopback).
 */
export async function startSim(args: string[], prefix: string[] = []): Promise<SimProcess> {
  const [command, ...before] = prefix.length > 0 ? prefix : [process.execPath];
  const argv = prefix.length > 0 ? [...before, process.execPath, BIN, ...args] : [BIN, ...args];
  const child = spawn(command as string, argv, { stdio: ['ignore', 'pipe', 'pipe'] });
  const output: string[] = [];
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const control = await new Promise<string>((resolve, reject) => {
    let buffer = '';
    const timer = setTimeout(
      () => reject(new Error(`no control line in 10 s:\n${output.join('\n')}`)),
      10_000,
    );
    child.stdout?.on('data', (chunk: Buffer) => {
      buffer += chunk.toString('utf8');
      const lines = buffer.split('\n');
      buffer = lines.pop() ?? '';
      for (const line of lines) {
        output.push(line);
        const match = /^control: (http:\/\/127\.0\.0\.1:\d+)$/.exec(line);
        if (match) {
          clearTimeout(timer);
          resolve(match[1] as string);
        }
      }
    });
    child.stderr?.on('data', (chunk: Buffer) => output.push(`stderr: ${chunk.toString('utf8')}`));
    child.once('exit', (code) =>
      reject(new Error(`exited with ${code} before start:\n${output.join('\n')}`)),
    );
  });
  const dongles = output.flatMap((line) => {
    const m = /^dongle ([0-9a-f]{16}) index \d+ remp [\d.]+:(\d+) /.exec(line);
    return m ? [{ deviceId: m[1] as string, port: Number(m[2]) }] : [];
  });
  const api = async <T>(method: string, path: string, body?: unknown) => {
    const res = await fetch(`${control}${path}`, {
      method,
      headers: body === undefined ? {} : { 'content-type': 'application/json' },
      body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
    });
    return { status: res.status, body: (await res.json()) as T };
  };
  const stop = () => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
    return exited;
  };
  return { child, control, dongles, output, exited, stop, api };
}

type Received =
  | { kind: 'remp'; message: RempMessage; port: number }
  | { kind: 'discovery'; message: DiscoveryMessage; port: number };

/** A node agent's UDP socket on 127.0.0.1: sends REMP, keeps every decoded reply. */
export class Agent {
  readonly received: Received[] = [];
  readonly #socket: Socket;
  #seq = 0;
  #waiters: Array<() => void> = [];

  private constructor(socket: Socket) {
    this.#socket = socket;
    socket.on('message', (bytes, rinfo) => {
      const kind = datagramKind(bytes);
      if (kind === 'remp') {
        const d = decodeRemp(bytes);
        if (d.ok) this.received.push({ kind, message: d.value, port: rinfo.port });
      } else if (kind === 'discovery') {
        const d = decodeDiscovery(bytes);
        if (d.ok) this.received.push({ kind, message: d.value, port: rinfo.port });
      }
      for (const wake of this.#waiters.splice(0)) wake();
    });
  }

  static async open(): Promise<Agent> {
    const socket = createSocket('udp4');
    await new Promise<void>((resolve) => socket.bind(0, '127.0.0.1', resolve));
    socket.setRecvBufferSize(4 * 1024 * 1024);
    socket.setBroadcast(true);
    return new Agent(socket);
  }

  get port(): number {
    return this.#socket.address().port;
  }

  send(port: number, bytes: Uint8Array, address = '127.0.0.1'): void {
    this.#socket.send(bytes, port, address);
  }

  remp(port: number, body: RempBody, token: Uint8Array): void {
    const message = {
      flags: 0,
      fwBuild: 0,
      deviceId: '0000000000000000',
      seq: this.#seq++,
      timestampUs: BigInt(Date.now()) * 1000n,
      token,
      ...body,
    } as RempMessage;
    this.send(port, encodeRemp(message));
  }

  /** Waits until `count` received datagrams match, and takes them out of `received`. */
  async take<T extends Received>(
    match: (r: Received) => r is T,
    count?: number,
    timeoutMs?: number,
  ): Promise<T[]>;
  async take(match: (r: Received) => boolean, count?: number, timeoutMs?: number): Promise<Received[]>;
  async take(match: (r: Received) => boolean, count = 1, timeoutMs = 5000): Promise<Received[]> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const hits = this.received.filter(match);
      if (hits.length >= count) {
        const taken = hits.slice(0, count);
        for (const t of taken) this.received.splice(this.received.indexOf(t), 1);
        return taken;
      }
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`waited ${timeoutMs} ms for ${count} datagrams, got ${hits.length}`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, left);
        this.#waiters.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
  }

  close(): void {
    this.#socket.close();
  }
}
