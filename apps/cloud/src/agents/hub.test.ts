import { randomBytes, randomUUID } from 'node:crypto';
import type { DongleRequestMessage } from '@canopy/protocol';
import { describe, expect, it } from 'vitest';
import { MemoryEngine } from '../engine';
import { Keyring } from '../keys/keyring';
import { AgentHub, type AgentSignal } from './hub';
import { signalSealer } from './signal-seal';

const keyring = (...versions: number[]) =>
  new Keyring(
    versions.map((version) => ({ version, bytes: randomBytes(32) })),
    { kind: 'env' },
  );

describe('AgentHub dongle requests between instances', () => {
  const token = randomBytes(32).toString('base64');
  const request = (): DongleRequestMessage => ({
    type: 'dongle_request',
    request_id: randomUUID(),
    device_id: '0011223344556677',
    request: {
      op: 'pairing_submit',
      pin: '246810',
      pairing_nonce: randomBytes(16).toString('base64'),
      token,
    },
  });

  it('seals the token and PIN on the wire and hands the request over whole', async () => {
    const engine = new MemoryEngine();
    const keys = keyring(1, 2);
    const agentId = randomUUID();
    const sender = new AgentHub(engine, signalSealer(keys));
    const receiver = new AgentHub(engine, signalSealer(keys));
    const wire: string[] = [];
    const got: AgentSignal[] = [];
    await engine.subscribe(`agent:${agentId}`, (m) => wire.push(m));
    await receiver.listen(agentId, (s) => got.push(s));
    const message = request();
    await sender.signal(agentId, { kind: 'dongle_request', message });
    await expect.poll(() => got.length).toBe(1);
    expect(got[0]).toEqual({ kind: 'dongle_request', message });
    expect(wire[0]).not.toContain(token);
    expect(wire[0]).not.toContain('246810');
    expect(JSON.parse(wire[0] as string)).toMatchObject({ kind: 'sealed_dongle_request', sealed: { v: 2 } });
    await engine.close();
  });

  it('drops a sealed request meant for another agent, tampered with, or under a key it lacks', async () => {
    const engine = new MemoryEngine();
    const keys = keyring(1);
    const [a, b] = [randomUUID(), randomUUID()];
    const hub = new AgentHub(engine, signalSealer(keys));
    const stranger = new AgentHub(engine, signalSealer(keyring(1)));
    const got: AgentSignal[] = [];
    await hub.listen(b, (s) => got.push(s));
    // Sealed for a, published on b's channel: the AAD binds it to a.
    const sealed = signalSealer(keys).seal(a, 'r1', Buffer.from(JSON.stringify(request())));
    await engine.publish(
      `agent:${b}`,
      JSON.stringify({ kind: 'sealed_dongle_request', request_id: 'r1', sealed }),
    );
    // Sealed for b, one bit of the ciphertext flipped: GCM refuses it.
    const forB = signalSealer(keys).seal(b, 'r2', Buffer.from(JSON.stringify(request())));
    const flipped = {
      ...forB,
      c: Buffer.from(Buffer.from(forB.c, 'base64').map((x, i) => (i === 3 ? x ^ 1 : x))).toString('base64'),
    };
    await engine.publish(
      `agent:${b}`,
      JSON.stringify({ kind: 'sealed_dongle_request', request_id: 'r2', sealed: flipped }),
    );
    await stranger.signal(b, { kind: 'dongle_request', message: request() });
    await hub.signal(b, { kind: 'wake' });
    await expect.poll(() => got.length).toBe(1);
    expect(got).toEqual([{ kind: 'wake' }]);
    await engine.close();
  });
});
