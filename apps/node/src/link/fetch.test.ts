import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { httpFetch } from './fetch';

describe('httpFetch', () => {
  let server: http.Server;
  let base = '';
  const seen: Array<{ method?: string; url?: string; headers: http.IncomingHttpHeaders; body: string }> = [];

  beforeAll(async () => {
    server = http.createServer((req, res) => {
      let body = '';
      req.on('data', (chunk) => {
        body += chunk;
      });
      req.on('end', () => {
        seen.push({ method: req.method, url: req.url, headers: req.headers, body });
        if (req.url === '/slow') return; // never answers
        if (req.url === '/missing') {
          res.writeHead(404, { 'content-type': 'application/json' });
          res.end('{"code":"NOT_FOUND"}');
          return;
        }
        res.end(`answer to ${req.method} ${req.url} ünïcode`);
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(() => {
    server.closeAllConnections();
    server.close();
  });

  it('sends the method, headers and body, and reads status and text', async () => {
    const res = await httpFetch(`${base}/agents/heartbeat?x=1`, {
      method: 'POST',
      headers: { authorization: 'Bearer t', 'content-type': 'application/json' },
      body: '{"state":"ünï"}',
    });
    expect(res.ok).toBe(true);
    expect(res.status).toBe(200);
    expect(await res.text()).toBe('answer to POST /agents/heartbeat?x=1 ünïcode');
    const request = seen.at(-1);
    expect(request?.body).toBe('{"state":"ünï"}');
    expect(request?.headers.authorization).toBe('Bearer t');
    expect(request?.headers['content-length']).toBe(String(Buffer.byteLength('{"state":"ünï"}')));
  });

  it('reports an error status as not ok, with its body', async () => {
    const res = await httpFetch(`${base}/missing`);
    expect(res).toMatchObject({ ok: false, status: 404 });
    expect(await res.text()).toBe('{"code":"NOT_FOUND"}');
  });

  it('stops at the abort signal, and names a refused connection', async () => {
    const controller = new AbortController();
    const pending = httpFetch(`${base}/slow`, { signal: controller.signal });
    setTimeout(() => controller.abort(), 50);
    await expect(pending).rejects.toMatchObject({ name: 'AbortError' });

    const closed = http.createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const { port } = closed.address() as AddressInfo;
    await new Promise<void>((resolve) => closed.close(() => resolve()));
    await expect(httpFetch(`http://127.0.0.1:${port}/`)).rejects.toThrow(/ECONNREFUSED/);
  });
});
