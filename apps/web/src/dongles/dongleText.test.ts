import type { Dongle, DongleSighting } from '@canopy/protocol';
import { describe, expect, it } from 'vitest';
import { formatDeviceId, ownership, seenBy, sortDongles } from './dongleText';

const sighting = (agent_name: string): DongleSighting => ({
  agent_id: `00000000-0000-4000-8000-00000000000${agent_name.length}`,
  agent_name,
  lan_ip: '192.168.1.40',
  udp_port: 40000,
  interface: 'eth0',
  online: true,
  pairing_state: 'normal',
  last_seen_at: '2030-01-01T12:00:00.000Z',
});

const dongle = (device_id: string, created_at: string): Dongle => ({
  id: `id-${device_id}`,
  device_id,
  owned: false,
  ownership_state: 'UNCLAIMED',
  fw_build: null,
  online: true,
  pairing_state: 'normal',
  lan_ip: null,
  last_seen_at: null,
  seen_by: [],
  created_at,
});

describe('formatDeviceId', () => {
  it('groups the 16 hex digits by four', () => {
    expect(formatDeviceId('0011223344556677')).toBe('0011 2233 4455 6677');
    expect(formatDeviceId('a1b2c3d4e5f60718')).toBe('a1b2 c3d4 e5f6 0718');
  });

  it('leaves anything that is not a device id as it is', () => {
    expect(formatDeviceId('00112233')).toBe('00112233');
    expect(formatDeviceId('')).toBe('');
  });
});

describe('ownership', () => {
  it('says "Yours" for an owned dongle and "Not claimed" for one seen on the network', () => {
    expect(ownership({ owned: true, ownership_state: 'CLAIMED_ACTIVE' })).toEqual({
      label: 'Yours',
      tone: 'accent',
    });
    expect(ownership({ owned: false, ownership_state: 'UNCLAIMED' })).toEqual({
      label: 'Not claimed',
      tone: 'muted',
    });
  });

  it('says when a dongle the user sees is paired with another account', () => {
    expect(ownership({ owned: false, ownership_state: 'CLAIMED_ACTIVE' })).toEqual({
      label: 'Another account’s',
      tone: 'muted',
    });
  });

  it('puts a security hold or a reset before who owns it', () => {
    expect(ownership({ owned: true, ownership_state: 'SECURITY_HOLD' }).label).toBe(
      'Security hold — contact support',
    );
    expect(ownership({ owned: false, ownership_state: 'SECURITY_HOLD' }).tone).toBe('danger');
    expect(ownership({ owned: true, ownership_state: 'RESET_DETECTED' })).toEqual({
      label: 'Reset detected',
      tone: 'waiting',
    });
  });
});

describe('seenBy', () => {
  it('names the first node and counts the others', () => {
    expect(seenBy({ seen_by: [sighting('garage'), sighting('van'), sighting('office')] })).toMatchObject({
      name: 'garage',
      more: 2,
    });
    expect(seenBy({ seen_by: [sighting('garage')] })).toMatchObject({ name: 'garage', more: 0 });
  });

  it('is null when no node sees the dongle', () => {
    expect(seenBy({ seen_by: [] })).toBeNull();
  });
});

describe('sortDongles', () => {
  it('keeps the first found first, so a new dongle is added at the end', () => {
    const old = dongle('ffff000000000000', '2030-01-01T10:00:00.000Z');
    const found = dongle('0000000000000001', '2030-01-01T12:00:00.000Z');
    expect(sortDongles([found, old]).map((d) => d.device_id)).toEqual([old.device_id, found.device_id]);
  });

  it('orders dongles found at the same moment by device id, and leaves its input alone', () => {
    const at = '2030-01-01T10:00:00.000Z';
    const input = [dongle('0000000000000002', at), dongle('0000000000000001', at)];
    expect(sortDongles(input).map((d) => d.device_id)).toEqual(['0000000000000001', '0000000000000002']);
    expect(input[0]?.device_id).toBe('0000000000000002');
  });
});
