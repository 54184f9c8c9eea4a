import { describe, expect, it } from 'vitest';
import { BROWSER_FRESH_MS, capabilityLabels, deviceStatus, type StatusInput } from './devices';

const NOW = 10_000_000;
const node: StatusInput = {
  kind: 'node',
  lastSeenAt: NOW - 1000,
  peerTokenExpiresAt: NOW + 1000,
  issuedExpiresAt: NOW + 1000,
  issuedRevoked: false,
  lastPing: { reachable: true, errorCode: null },
};

describe('device status', () => {
  it('is Available when the last ping answered', () => {
    expect(deviceStatus(node, NOW)).toBe('AVAILABLE');
  });
  it('is Offline when the last ping did not, or none was made yet', () => {
    expect(
      deviceStatus({ ...node, lastPing: { reachable: false, errorCode: 'MESH_DEVICE_OFFLINE' } }, NOW),
    ).toBe('OFFLINE');
    expect(deviceStatus({ ...node, lastPing: null }, NOW)).toBe('OFFLINE');
  });
  it('needs re-pairing when either token is gone, expired or refused by the device', () => {
    expect(deviceStatus({ ...node, peerTokenExpiresAt: null }, NOW)).toBe('NEEDS_REPAIR');
    expect(deviceStatus({ ...node, peerTokenExpiresAt: NOW }, NOW)).toBe('NEEDS_REPAIR');
    expect(deviceStatus({ ...node, issuedRevoked: true }, NOW)).toBe('NEEDS_REPAIR');
    expect(deviceStatus({ ...node, issuedExpiresAt: NOW - 1 }, NOW)).toBe('NEEDS_REPAIR');
    expect(
      deviceStatus({ ...node, lastPing: { reachable: true, errorCode: 'MESH_TOKEN_REVOKED' } }, NOW),
    ).toBe('NEEDS_REPAIR');
  });
  it('counts a browser device available while it called in lately', () => {
    const phone = { ...node, kind: 'browser' as const, peerTokenExpiresAt: null, lastPing: null };
    expect(deviceStatus(phone, NOW)).toBe('AVAILABLE');
    expect(deviceStatus({ ...phone, lastSeenAt: NOW - BROWSER_FRESH_MS }, NOW)).toBe('OFFLINE');
  });
});

describe('capability names', () => {
  it('are the ones a person understands, in order, unknown ones left out', () => {
    expect(capabilityLabels(['media.storage', 'x.internal', 'always_on', 'media.transcode'])).toEqual([
      'Can store media',
      'Always on',
      'Can process video',
    ]);
  });
});
