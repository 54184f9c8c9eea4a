import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import type { IncomingHttpHeaders } from 'node:http';
import https from 'node:https';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { dongles } from '../src/db/schema';
import { createLogger } from '../src/log';
import { ConsoleStreams } from '../src/streams/console-streams';
import { consoleStreamKey } from '../src/streams/keys';
import { backends } from './backends';
import { Client, type Json, startTestCloud, type TestCloud } from './harness';
import { nginxMissing, nginxTest, type RunningNginx, SHIPPED_NGINX_CONF, startNginx } from './nginx';
import { registerNode } from './raw-node';

// Debian's nginx, configured from infra/nginx/canopy.conf, in front of a real canopy-cloud; only 127.0.0.1.
const missing = nginxMissing();
const NGINX_REQUEST_ID = /^[0-9a-f]{32}$/;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

type Reply = { status: number; headers: IncomingHttpHeaders; body: string };

describe.skipIf(missing !== undefined)(
  `nginx in front of canopy-cloud${missing ? ` (skipped: ${missing})` : ''}`,
  () => {
    let cloud: TestCloud;
    let nginx: RunningNginx;
    let alice: Client;

    const request = (url: string, headers: Record<string, string> = {}): Promise<Reply> =>
      new Promise((resolve, reject) => {
        const req = https.get(url, { ca: nginx.ca, headers }, (res) => {
          let body = '';
          res.setEncoding('utf8');
          res.on('data', (c) => {
            body += c;
          });
          res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
        });
        req.on('error', reject);
      });
    const logLinesWith = (requestId: string) => cloud.logs.lines.filter((l) => l.request_id === requestId);

    beforeAll(async () => {
      const [embedded] = await backends();
      if (!embedded) throw new Error('no backend');
      cloud = await startTestCloud(embedded, {
        DONGLE_TOKEN_MASTER_KEY_V1: randomBytes(32).toString('base64'),
      });
      nginx = await startNginx(cloud.port);
      alice = new Client(cloud.baseUrl);
      expect((await alice.signup('alice@example.com')).status).toBe(201);
    });

    afterAll(async () => {
      await nginx?.stop();
      await cloud?.stop();
    });

    it('serves the API over TLS and gives a request without X-Request-ID an id that reaches the logs', async () => {
      const reply = await request(`${nginx.httpsUrl}/api/v1/auth/csrf`);
      expect(reply.status).toBe(200);
      expect(JSON.parse(reply.body).csrf_token).toEqual(expect.any(String));
      expect(reply.headers['strict-transport-security']).toMatch(/max-age=/);
      const id = String(reply.headers['x-request-id']);
      expect(id).toMatch(NGINX_REQUEST_ID);
      await expect.poll(() => logLinesWith(id).length).toBeGreaterThan(0);
      // The proxy's own access log carries the same id.
      await expect.poll(() => nginx.accessLog()).toContain(`"request_id":"${id}"`);
    });

    it('keeps a request id the client sent', async () => {
      const id = `ops-${randomBytes(6).toString('hex')}`;
      const reply = await request(`${nginx.httpsUrl}/healthz`, { 'x-request-id': id });
      expect(reply.status).toBe(200);
      expect(reply.headers['x-request-id']).toBe(id);
      const reply2 = await request(`${nginx.httpsUrl}/api/v1/nope`, { 'x-request-id': id });
      expect(reply2.status).toBe(404);
      expect(JSON.parse(reply2.body)).toMatchObject({ code: 'NOT_FOUND' });
      await expect.poll(() => logLinesWith(id).length).toBeGreaterThan(0);
    });

    it('replaces a malformed request id with its own, so the proxy and the cloud log the same one', async () => {
      const reply = await request(`${nginx.httpsUrl}/healthz`, { 'x-request-id': 'not ok <id>' });
      const id = String(reply.headers['x-request-id']);
      expect(id).toMatch(NGINX_REQUEST_ID);
      await expect.poll(() => nginx.accessLog()).toContain(`"request_id":"${id}"`);
    });

    it('redirects plain HTTP to HTTPS', async () => {
      const res = await fetch(`${nginx.httpUrl}/login`, { redirect: 'manual' });
      expect(res.status).toBe(301);
      expect(res.headers.get('location')).toMatch(/^https:\/\/.*\/login$/);
    });

    it('hides /metrics from the public address; a direct loopback scrape works', async () => {
      expect((await request(`${nginx.httpsUrl}/metrics`)).status).toBe(404);
      const direct = await fetch(`${cloud.baseUrl}/metrics`);
      expect(direct.status).toBe(200);
      expect(direct.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/);
      expect(await direct.text()).toMatch(
        /canopy_http_requests_total\{method="GET",route="\/api\/v1\/auth\/csrf",status="200"\} [1-9]/,
      );
      // Through a proxy that forwards to the cloud (X-Forwarded-For set), it is refused even from loopback.
      const proxied = await fetch(`${cloud.baseUrl}/metrics`, {
        headers: { 'x-forwarded-for': '203.0.113.7' },
      });
      expect(proxied.status).toBe(404);
      expect(await proxied.json()).toMatchObject({
        code: 'NOT_FOUND',
        message: expect.any(String),
        details: {},
      });
    });

    it('upgrades /ws/agent to a WebSocket that stays open, with the request id in the cloud log', async () => {
      const key = await alice.post('/api/v1/agents/enrollment-keys', { label: 'nginx' });
      expect(key.status).toBe(201);
      const node = await registerNode(cloud, key.body.secret, `nginx-${randomBytes(3).toString('hex')}`);
      const wsUrl = `${nginx.httpsUrl.replace('https', 'wss')}/ws/agent`;
      const ws = new WebSocket(wsUrl, { ca: nginx.ca, headers: node.headers(node.agentToken) });
      const frames: Json[] = [];
      ws.on('message', (d) => frames.push(JSON.parse(d.toString())));
      let closed: number | undefined;
      ws.on('close', (code) => {
        closed = code;
      });
      try {
        await expect.poll(() => frames.some((f) => f.type === 'welcome'), { timeout: 10_000 }).toBe(true);
        expect(cloud.gateway.isConnected(node.agentId)).toBe(true);
        await sleep(1500);
        expect(closed).toBeUndefined();
        expect(ws.readyState).toBe(WebSocket.OPEN);
        const connected = cloud.logs.lines.find(
          (l) => l.msg === 'agent connected' && l.agent_id === node.agentId,
        );
        expect(String(connected?.request_id)).toMatch(NGINX_REQUEST_ID);
        const metrics = await (await fetch(`${cloud.baseUrl}/metrics`)).text();
        expect(metrics).toMatch(/^canopy_nodes_connected 1$/m);
      } finally {
        ws.close();
      }
    });

    it('passes SSE events through at once (not buffered), each carrying the request id', async () => {
      const me = await alice.get('/api/v1/auth/me');
      const [row] = await cloud.database.db
        .insert(dongles)
        .values({
          deviceId: randomBytes(8).toString('hex'),
          ownerUserId: me.body.user.id,
          ownershipState: 'CLAIMED_ACTIVE',
        })
        .returning();
      if (!row) throw new Error('no dongle row');
      const emitter = new ConsoleStreams({ engine: cloud.engine, log: createLogger('silent') });
      const cookie = [...alice.cookies].map(([k, v]) => `${k}=${v}`).join('; ');
      const received: Array<{ at: number; event: string; data: Json }> = [];
      let headers: IncomingHttpHeaders = {};
      const req = https.get(`${nginx.httpsUrl}/api/v1/streams/dongles/${row.id}/console`, {
        ca: nginx.ca,
        headers: { cookie, accept: 'text/event-stream' },
      });
      let buffer = '';
      await new Promise<void>((resolve, reject) => {
        // A proxy that buffers the stream holds back even the headers: fail with a reason, not a test timeout.
        const timer = setTimeout(
          () => reject(new Error('no SSE response through nginx within 5 s (buffered?)')),
          5000,
        );
        req.on('response', () => clearTimeout(timer));
        req.on('error', reject);
        req.on('response', (res) => {
          headers = res.headers;
          res.setEncoding('utf8');
          res.on('data', (chunk: string) => {
            buffer += chunk;
            for (let end = buffer.indexOf('\n\n'); end >= 0; end = buffer.indexOf('\n\n')) {
              const block = buffer.slice(0, end);
              buffer = buffer.slice(end + 2);
              const event = /^event: (.*)$/m.exec(block)?.[1];
              const data = /^data: (.*)$/m.exec(block)?.[1];
              if (event && data) received.push({ at: Date.now(), event, data: JSON.parse(data) });
            }
          });
          resolve();
        });
      });
      try {
        expect(headers['content-type']).toMatch(/^text\/event-stream/);
        const id = String(headers['x-request-id']);
        expect(id).toMatch(NGINX_REQUEST_ID);
        await expect.poll(() => cloud.logs.text()).toContain('live console connected');
        for (let i = 0; i < 3; i++) {
          const sent = Date.now();
          await emitter.emit(consoleStreamKey('dongle', row.id), 'log', {
            ts: new Date().toISOString(),
            level: 'info',
            message: `through nginx ${i}`,
          });
          await expect
            .poll(() => received.find((e) => e.event === 'log' && e.data.message === `through nginx ${i}`), {
              timeout: 2000,
              interval: 5,
            })
            .toBeDefined();
          const got = received.find((e) => e.data.message === `through nginx ${i}`);
          // Buffered by the proxy, a small event would wait for the stream to end or a buffer to fill.
          expect((got?.at ?? Number.POSITIVE_INFINITY) - sent).toBeLessThan(1000);
          expect(got?.data.request_id).toBe(id);
          await sleep(200);
        }
        const metrics = await (await fetch(`${cloud.baseUrl}/metrics`)).text();
        expect(metrics).toMatch(/^canopy_sse_subscribers [1-9]/m);
        expect(logLinesWith(id).some((l) => l.msg === 'live console connected')).toBe(true);
      } finally {
        req.destroy();
        emitter.close();
      }
    });

    it('passes `nginx -t` (the shipped file, with only addresses, certificates and log paths replaced)', () => {
      const checked = nginxTest(nginx.dir);
      expect(checked.output).toMatch(/syntax is ok/);
      expect(checked.output).toMatch(/test is successful/);
      expect(checked.status).toBe(0);
    });

    it('ships long timeouts for /ws/ and SSE, and no buffering or caching for SSE', () => {
      const conf = fs.readFileSync(SHIPPED_NGINX_CONF, 'utf8');
      const block = (prefix: string) => {
        const start = conf.indexOf(`location ${prefix} {`);
        return conf.slice(start, conf.indexOf('\n    }', start));
      };
      expect(block('/ws/')).toMatch(/proxy_read_timeout 3600s;/);
      expect(block('/ws/')).toMatch(/proxy_set_header Upgrade\s+\$http_upgrade;/);
      expect(block('/ws/')).toMatch(/proxy_set_header X-Request-ID\s+\$canopy_request_id;/);
      expect(block('/api/v1/streams/')).toMatch(/proxy_buffering off;/);
      expect(block('/api/v1/streams/')).toMatch(/proxy_cache off;/);
      expect(block('/api/v1/streams/')).toMatch(/proxy_read_timeout 3600s;/);
      expect(nginx.errorLog()).not.toMatch(/\[(emerg|alert|crit)\]/);
    });
  },
);
