import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { Email, Password } from '@canopy/protocol';
import { z } from 'zod';
import type { Accounts } from '../accounts/accounts';
import type { Logger } from '../log';

/**
 * On the embedded database only one process may open the data folder, so while the server runs, CLI
 * commands that need the database (create-admin) are carried out by the server through a Unix socket in
 * the data folder. The socket is 0600 inside a 0700 folder: only the user running canopy-cloud can use it.
 */
export function controlSocketPath(dataDir: string): string {
  return path.join(dataDir, 'control.sock');
}

const CreateAdmin = z.object({ email: Email, password: Password.optional() });

/** A further command: it writes its own answer; `closed` aborts when the client hangs up. */
export type ControlCommand = (body: unknown, res: http.ServerResponse, closed: AbortSignal) => Promise<void>;

export async function startControlSocket(
  dataDir: string,
  publicUrl: string,
  accounts: Accounts,
  log: Logger,
  commands: ReadonlyMap<string, ControlCommand> = new Map(),
) {
  const socketPath = controlSocketPath(dataDir);
  fs.rmSync(socketPath, { force: true });
  const server = http.createServer(async (req, res) => {
    const reply = (status: number, body: unknown) => {
      res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
    };
    try {
      const command = req.method === 'POST' ? commands.get(req.url?.slice(1) ?? '') : undefined;
      if (command) {
        const chunks: Buffer[] = [];
        for await (const chunk of req) chunks.push(chunk as Buffer);
        const closed = new AbortController();
        res.on('close', () => closed.abort());
        return await command(JSON.parse(Buffer.concat(chunks).toString('utf8') || '{}'), res, closed.signal);
      }
      if (req.method !== 'POST' || req.url !== '/create-admin')
        return reply(404, { message: 'unknown command' });
      const chunks: Buffer[] = [];
      for await (const chunk of req) chunks.push(chunk as Buffer);
      const input = CreateAdmin.safeParse(JSON.parse(Buffer.concat(chunks).toString('utf8') || '{}'));
      if (!input.success)
        return reply(400, {
          message: input.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; '),
        });
      const result = await accounts.createAdmin(input.data.email, input.data.password, {
        actorUserId: null,
        ip: null,
        userAgent: 'canopy-cloud create-admin',
      });
      log.info({ user_id: result.user.id, outcome: result.outcome }, 'create-admin via control socket');
      reply(200, { outcome: result.outcome, user_id: result.user.id, public_url: publicUrl });
    } catch (err) {
      log.error({ err }, 'control socket command failed');
      reply(500, { message: err instanceof Error ? err.message : String(err) });
    }
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(socketPath, () => resolve());
  });
  fs.chmodSync(socketPath, 0o600);
  return {
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        fs.rmSync(socketPath, { force: true });
      }),
  };
}

/** Client side: sends a command to a running server; undefined when no server listens. */
export async function callControlSocket(
  dataDir: string,
  command: string,
  body: unknown,
): Promise<{ status: number; body: Record<string, unknown> } | undefined> {
  const socketPath = controlSocketPath(dataDir);
  if (!fs.existsSync(socketPath)) return undefined;
  return new Promise((resolve, reject) => {
    const req = http.request(
      { socketPath, path: `/${command}`, method: 'POST', headers: { 'content-type': 'application/json' } },
      async (res) => {
        const chunks: Buffer[] = [];
        for await (const chunk of res) chunks.push(chunk as Buffer);
        resolve({
          status: res.statusCode ?? 500,
          body: JSON.parse(Buffer.concat(chunks).toString('utf8') || '{}'),
        });
      },
    );
    req.on('error', (err: NodeJS.ErrnoException) =>
      err.code === 'ECONNREFUSED' || err.code === 'ENOENT' ? resolve(undefined) : reject(err),
    );
    req.end(JSON.stringify(body));
  });
}
