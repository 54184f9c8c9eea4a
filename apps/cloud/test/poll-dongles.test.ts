import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { backends } from './backends';
import { Client, type Json, startTestCloud, type TestCloud } from './harness';
import { type RawNode, registerNode } from './raw-node';

// A node that polls instead of holding a WebSocket (spec 000 §1 fallback) still carries requests to its
// dongles: they come in the poll answer (`dongle_requests`), the node answers with POST /agents/dongles/response.
// The node here is the test speaking the node's HTTP protocol; the real node's side is in link.ts.
describe.each(await backends())('dongle requests to a polling node on $name', (backend) => {
  let cloud: TestCloud;
  let alice: Client;
  let node: RawNode;
  let session: string;
  let dongleId: string;
  const deviceId = randomBytes(8).toString('hex');
  const poll = (waitS: number) => node.http('GET', `/poll?cursor=0&wait_s=${waitS}`, session);

  beforeAll(async () => {
    cloud = await startTestCloud(backend);
    alice = new Client(cloud.baseUrl);
    await alice.signup('alice@example.com');
    const key = await alice.post('/api/v1/agents/enrollment-keys', {});
    node = await registerNode(cloud, key.body.secret, 'poller');
    session = (await node.http('POST', '/token/refresh', node.agentToken)).body.token;
    expect((await poll(0)).status).toBe(200); // online, as a polling node
    const reported = await node.http('POST', '/devices/report', session, {
      dongles: [
        {
          device_id: deviceId,
          lan_ip: '192.168.1.23',
          udp_port: 51000,
          fw_build: 'sim',
          proto_ver: 1,
          capabilities: 15,
          pairing_state: 'normal',
          interface: 'eth0',
          online: true,
          last_seen_at: new Date().toISOString(),
        },
      ],
    });
    expect(reported.status).toBe(200);
    dongleId = ((await alice.get('/api/v1/dongles')).body.dongles as Json[])[0]?.id;
  });
  afterAll(async () => {
    await cloud?.stop();
  });

  it('hands a pairing start to the node in its long poll and returns the node’s answer to the caller', async () => {
    const waiting = poll(20);
    await new Promise((r) => setTimeout(r, 200)); // the poll is waiting when the request comes
    const started = alice.post(`/api/v1/dongles/${dongleId}/pairing-mode`, { action: 'start' });
    const answer = await waiting;
    expect(answer.status).toBe(200);
    const [request] = answer.body.dongle_requests as Json[];
    expect(request).toMatchObject({
      type: 'dongle_request',
      device_id: deviceId,
      request: { op: 'pairing_start' },
    });
    const nonce = randomBytes(16).toString('base64');
    const replied = await node.http('POST', '/dongles/response', session, {
      type: 'dongle_response',
      request_id: request?.request_id,
      outcome: {
        ok: true,
        result: { op: 'pairing_start', status: 'ok', seconds: 120, pairing_nonce: nonce },
      },
    });
    expect(replied.status).toBe(204);
    const reply = await started;
    expect(reply.status, JSON.stringify(reply.body)).toBe(200);
    expect(reply.body).toMatchObject({ dongle_id: dongleId, pairing_session_id: expect.any(String) });
  });

  it('keeps a request that arrives between two polls for the next one', async () => {
    const started = alice.post(`/api/v1/dongles/${dongleId}/pairing-mode`, { action: 'start' });
    await new Promise((r) => setTimeout(r, 300)); // no poll is waiting now
    const answer = await poll(20);
    const [request] = answer.body.dongle_requests as Json[];
    expect(request?.request?.op).toBe('pairing_start');
    const replied = await node.http('POST', '/dongles/response', session, {
      type: 'dongle_response',
      request_id: request?.request_id,
      outcome: { ok: false, code: 'DONGLE_TIMEOUT', message: 'no answer from the dongle' },
    });
    expect(replied.status).toBe(204);
    const reply = await started;
    expect(reply.status).toBe(504);
    expect(reply.body.code).toBe('DONGLE_TIMEOUT');
    expect(reply.body.message).toBe('The dongle did not answer its node in time');
  });

  it('refuses a malformed answer with VALIDATION_ERROR and an answer without a session', async () => {
    const bad = await node.http('POST', '/dongles/response', session, { type: 'dongle_response' });
    expect(bad.status).toBe(400);
    expect(bad.body.code).toBe('VALIDATION_ERROR');
    const anonymous = await node.http('POST', '/dongles/response', 'nope', {});
    expect(anonymous.status).toBe(401);
  });
});
