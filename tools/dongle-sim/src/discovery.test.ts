import type { NetworkInterfaceInfo } from 'node:os';
import { describe, expect, it } from 'vitest';
import { broadcastAddressFor } from './discovery';

const v4 = (address: string, netmask: string): NetworkInterfaceInfo => ({
  address,
  netmask,
  family: 'IPv4',
  mac: '00:00:00:00:00:00',
  internal: false,
  cidr: null,
});
const INTERFACES = {
  lo: [v4('127.0.0.1', '255.0.0.0')],
  eth0: [
    v4('192.168.1.23', '255.255.255.0'),
    { ...v4('fd00::2', 'ffff::'), family: 'IPv6' as const, scopeid: 0 },
  ],
  wlan0: [v4('10.20.30.40', '255.255.240.0')],
};

describe('broadcastAddressFor', () => {
  it('is address | ~netmask of the interface holding the host', () => {
    expect(broadcastAddressFor('127.0.0.1', INTERFACES)).toBe('127.255.255.255');
    expect(broadcastAddressFor('192.168.1.23', INTERFACES)).toBe('192.168.1.255');
    expect(broadcastAddressFor('10.20.30.40', INTERFACES)).toBe('10.20.31.255');
  });

  it('finds the interface whose subnet contains the host (127.0.0.2 is on lo)', () => {
    expect(broadcastAddressFor('127.0.0.2', INTERFACES)).toBe('127.255.255.255');
  });

  it('is undefined for an address on no interface', () => {
    expect(broadcastAddressFor('172.16.0.1', INTERFACES)).toBeUndefined();
    expect(broadcastAddressFor('127.0.0.1', {})).toBeUndefined();
  });

  it('finds loopback on this machine', () => {
    expect(broadcastAddressFor('127.0.0.1')).toBe('127.255.255.255');
  });
});
