import type { Announce } from '@canopy/remp';
import { describe, expect, it } from 'vitest';
import { DongleRegistry, MAX_DONGLES, MISSED_SCANS_OFFLINE } from './registry';

const A: Announce = {
  deviceId: '0011223344556677',
  fwBuild: 'fw-1',
  udpPort: 51000,
  lanIp: '192.168.1.23',
  pairingState: 0,
};
const B: Announce = { deviceId: '8899aabbccddeeff', udpPort: 51001 };
const heard = (announce: Announce, iface = 'eth0', from = '192.168.1.23') => ({ announce, iface, from });

function scan(registry: DongleRegistry, list: ReturnType<typeof heard>[], now: number) {
  registry.beginScan();
  const changed = list.map((h) => registry.hear(h, now));
  registry.endScan(now);
  return changed;
}

describe('DongleRegistry', () => {
  it('reports a new dongle, with its lan_ip, port and pairing state', () => {
    const r = new DongleRegistry();
    expect(scan(r, [heard(A)], 1000)).toEqual([true]);
    expect(r.snapshot()).toEqual([
      {
        device_id: A.deviceId,
        lan_ip: '192.168.1.23',
        udp_port: 51000,
        fw_build: 'fw-1',
        proto_ver: null,
        capabilities: null,
        pairing_state: 'normal',
        interface: 'eth0',
        online: true,
        last_seen_at: new Date(1000).toISOString(),
      },
    ]);
    expect(r.target(A.deviceId)).toEqual({ address: '192.168.1.23', port: 51000 });
  });

  it('uses the sender address when the ANNOUNCE carries no lan_ip, and 50000 when it has no port', () => {
    const r = new DongleRegistry();
    scan(r, [heard({ deviceId: B.deviceId }, 'wlan0', '10.0.5.9')], 0);
    expect(r.snapshot()[0]).toMatchObject({ lan_ip: '10.0.5.9', udp_port: 50000, interface: 'wlan0' });
  });

  it('goes offline after missing 3 scans in a row, not before, and comes back when heard', () => {
    const r = new DongleRegistry();
    scan(r, [heard(A)], 0);
    r.markReported(r.snapshot());
    for (let i = 1; i < MISSED_SCANS_OFFLINE; i++) {
      scan(r, [], i * 1000);
      expect(r.snapshot()[0]?.online).toBe(true);
      expect(r.dirty).toBe(false);
    }
    scan(r, [], 9000);
    expect(r.snapshot()[0]?.online).toBe(false);
    expect(r.dirty).toBe(true);
    r.markReported(r.snapshot());
    expect(scan(r, [heard(A)], 10_000)).toEqual([true]);
    expect(r.snapshot()[0]?.online).toBe(true);
  });

  it('a scan that hears the same thing again changes nothing to report', () => {
    const r = new DongleRegistry();
    scan(r, [heard(A)], 0);
    r.markReported(r.snapshot());
    expect(scan(r, [heard(A)], 5000)).toEqual([false]);
    expect(r.dirty).toBe(false);
  });

  it('entering pairing mode is a change', () => {
    const r = new DongleRegistry();
    scan(r, [heard(A)], 0);
    r.markReported(r.snapshot());
    expect(scan(r, [heard({ ...A, pairingState: 1, pairingNonce: new Uint8Array(16) })], 1)).toEqual([true]);
    expect(r.snapshot()[0]?.pairing_state).toBe('pairing');
  });

  it('merges one dongle heard on two interfaces by device_id and keeps each interface’s lan_ip', () => {
    const r = new DongleRegistry();
    scan(
      r,
      [
        heard({ ...A, lanIp: '192.168.1.23' }, 'eth0', '192.168.1.23'),
        heard({ ...A, lanIp: '10.0.5.23' }, 'wlan0', '10.0.5.23'),
      ],
      0,
    );
    expect(r.snapshot()).toHaveLength(1);
    expect(r.snapshot()[0]).toMatchObject({ interface: 'eth0', lan_ip: '192.168.1.23' });
    expect(r.paths(A.deviceId)).toEqual([
      { iface: 'eth0', lanIp: '192.168.1.23' },
      { iface: 'wlan0', lanIp: '10.0.5.23' },
    ]);
    // Heard on wlan0 first next time: the primary interface stays eth0 (no flapping reports).
    scan(r, [heard({ ...A, lanIp: '10.0.5.23' }, 'wlan0', '10.0.5.23'), heard(A, 'eth0')], 1);
    expect(r.snapshot()[0]?.interface).toBe('eth0');
    // Only wlan0 hears it: wlan0 becomes the primary, with its own lan_ip.
    scan(r, [heard({ ...A, lanIp: '10.0.5.23' }, 'wlan0', '10.0.5.23')], 2);
    expect(r.snapshot()[0]).toMatchObject({ interface: 'wlan0', lan_ip: '10.0.5.23' });
  });

  it('keeps at most MAX_DONGLES', () => {
    const r = new DongleRegistry();
    const many = Array.from({ length: MAX_DONGLES + 5 }, (_, i) =>
      heard({ deviceId: i.toString(16).padStart(16, '0') }),
    );
    scan(r, many, 0);
    expect(r.size).toBe(MAX_DONGLES);
  });
});
