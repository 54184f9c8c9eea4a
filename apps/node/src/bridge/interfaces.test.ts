import type os from 'node:os';
import { describe, expect, it } from 'vitest';
import { broadcastAddress, chooseInterfaces, type InterfaceTable, inSubnet } from './interfaces';

const v4 = (address: string, netmask: string, internal = false): os.NetworkInterfaceInfo => ({
  address,
  netmask,
  family: 'IPv4',
  mac: '00:00:00:00:00:00',
  internal,
  cidr: null,
});
const v6 = (address: string): os.NetworkInterfaceInfo => ({
  address,
  netmask: 'ffff:ffff:ffff:ffff::',
  family: 'IPv6',
  mac: '00:00:00:00:00:00',
  internal: false,
  cidr: null,
  scopeid: 0,
});

const TABLE: InterfaceTable = {
  lo: [v4('127.0.0.1', '255.0.0.0', true), v6('::1')],
  eth0: [v4('192.168.1.10', '255.255.255.0'), v6('fe80::1')],
  wlan0: [v4('10.0.5.7', '255.255.0.0')],
  eth1: [v4('172.16.0.2', '255.255.255.0')],
  tun0: [v4('10.8.0.2', '255.255.255.0')],
  tap1: [v4('10.9.0.2', '255.255.255.0')],
  wg0: [v4('10.10.0.2', '255.255.255.0')],
  utun3: [v4('10.11.0.2', '255.255.255.0')],
  ppp0: [v4('10.12.0.2', '255.255.255.0')],
  docker0: [v4('172.17.0.1', '255.255.0.0')],
  'br-1a2b': [v4('172.18.0.1', '255.255.0.0')],
  vboxnet0: [v4('192.168.56.1', '255.255.255.0')],
  vmnet8: [v4('192.168.57.1', '255.255.255.0')],
  ptp0: [v4('10.13.0.2', '255.255.255.255')],
  p2p: [v4('10.14.0.2', '255.255.255.254')],
  v6only: [v6('2001:db8::1')],
};
const allUp = () => true;

describe('chooseInterfaces (spec 002 §9.3)', () => {
  it('keeps up, non-loopback IPv4 interfaces with a broadcast address and drops virtual and VPN names', () => {
    const choice = chooseInterfaces(TABLE, { allow: null, isUp: (name) => name !== 'eth1' });
    expect(choice.eligible).toEqual([
      { name: 'eth0', address: '192.168.1.10', netmask: '255.255.255.0', broadcast: '192.168.1.255' },
      { name: 'wlan0', address: '10.0.5.7', netmask: '255.255.0.0', broadcast: '10.0.255.255' },
    ]);
    const reasons = Object.fromEntries(choice.skipped.map((s) => [s.name, s.reason]));
    expect(reasons).toMatchObject({
      lo: 'loopback',
      eth1: 'down',
      tun0: 'virtual or VPN interface (tun*)',
      tap1: 'virtual or VPN interface (tap*)',
      wg0: 'virtual or VPN interface (wg*)',
      utun3: 'virtual or VPN interface (utun*)',
      ppp0: 'virtual or VPN interface (ppp*)',
      docker0: 'virtual or VPN interface (docker*)',
      'br-1a2b': 'virtual or VPN interface (br-*)',
      vboxnet0: 'virtual or VPN interface (vbox*)',
      vmnet8: 'virtual or VPN interface (vmnet*)',
      ptp0: 'no broadcast address (netmask 255.255.255.255)',
      p2p: 'no broadcast address (netmask 255.255.255.254)',
      v6only: 'no IPv4 address',
    });
  });

  it('with an allowlist uses exactly the listed names, loopback included, and says which are missing', () => {
    const choice = chooseInterfaces(TABLE, { allow: ['lo', 'tun0', 'veth-x'], isUp: allUp });
    expect(choice.eligible.map((i) => [i.name, i.broadcast])).toEqual([
      ['lo', '127.255.255.255'],
      ['tun0', '10.8.0.255'],
    ]);
    expect(choice.skipped).toContainEqual({
      name: 'veth-x',
      reason: 'listed in the allowlist but not present',
    });
    expect(choice.skipped).toContainEqual({ name: 'eth0', reason: 'not in the allowlist' });
  });

  it('never picks an interface the allowlist leaves out, even the only eligible one', () => {
    expect(chooseInterfaces({ eth0: TABLE.eth0 }, { allow: ['lo'], isUp: allUp }).eligible).toEqual([]);
  });

  it('still skips a listed interface that is down', () => {
    expect(chooseInterfaces(TABLE, { allow: ['eth0'], isUp: () => false }).eligible).toEqual([]);
  });
});

describe('broadcastAddress and inSubnet', () => {
  it.each([
    ['192.168.1.10', '255.255.255.0', '192.168.1.255'],
    ['10.0.5.7', '255.255.0.0', '10.0.255.255'],
    ['10.254.3.1', '255.255.255.252', '10.254.3.3'],
    ['127.0.0.1', '255.0.0.0', '127.255.255.255'],
    ['192.168.1.10', '255.255.255.254', null],
    ['192.168.1.10', '255.255.255.255', null],
    ['fe80::1', 'ffff::', null],
    ['300.1.1.1', '255.0.0.0', null],
  ])('%s/%s → %s', (address, netmask, want) => {
    expect(broadcastAddress(address, netmask)).toBe(want);
  });

  it('tells which subnet an address lies in', () => {
    const eth0 = { address: '192.168.1.10', netmask: '255.255.255.0' };
    expect(inSubnet('192.168.1.200', eth0)).toBe(true);
    expect(inSubnet('192.168.2.200', eth0)).toBe(false);
    expect(inSubnet('127.0.0.1', { address: '127.0.0.1', netmask: '255.0.0.0' })).toBe(true);
    expect(inSubnet('not-an-ip', eth0)).toBe(false);
  });
});
