import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { fingerprint } from './fingerprint';
import { describeOs, networkSummary } from './host';
import { machineId } from './machine-id';
import { AlreadyRunningError, acquirePidFile, runningPid } from './pid-file';

const temps: string[] = [];
const tempHome = () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'canopy-system-'));
  temps.push(dir);
  return dir;
};
afterEach(() => {
  for (const dir of temps.splice(0)) fs.rmSync(dir, { recursive: true, force: true });
});

describe('machineId', () => {
  const none = { readFile: () => null, run: () => null };

  it('reads /etc/machine-id on Linux, then the dbus copy', () => {
    const files: Record<string, string> = {
      '/var/lib/dbus/machine-id': 'ABCDEF0123456789abcdef0123456789\n',
    };
    expect(
      machineId(tempHome(), { platform: 'linux', readFile: (f) => files[f] ?? null, run: () => null }),
    ).toBe('abcdef0123456789abcdef0123456789');
  });

  it("reads the IOPlatformUUID on macOS and the registry's MachineGuid on Windows", () => {
    const ioreg =
      '  "IOPlatformSerialNumber" = "C02X"\n  "IOPlatformUUID" = "564D1A2B-1111-2222-3333-444455556666"\n';
    expect(machineId(tempHome(), { platform: 'darwin', readFile: () => null, run: () => ioreg })).toBe(
      '564d1a2b-1111-2222-3333-444455556666',
    );
    const reg =
      '\r\nHKEY_LOCAL_MACHINE\\SOFTWARE\\Microsoft\\Cryptography\r\n    MachineGuid    REG_SZ    0b7e1c2d-aaaa-bbbb-cccc-1234567890ab\r\n';
    expect(machineId(tempHome(), { platform: 'win32', readFile: () => null, run: () => reg })).toBe(
      '0b7e1c2d-aaaa-bbbb-cccc-1234567890ab',
    );
  });

  it('falls back to a random id kept in the home, the same on every call', () => {
    const home = tempHome();
    const first = machineId(home, { platform: 'linux', ...none });
    expect(first).toMatch(/^[0-9a-f]{32}$/);
    expect(machineId(home, { platform: 'linux', ...none })).toBe(first);
    expect(fs.statSync(path.join(home, 'machine-id')).mode & 0o777).toBe(0o600);
    expect(machineId(tempHome(), { platform: 'linux', ...none })).not.toBe(first);
  });

  it('ignores an empty or all-zero machine id (containers)', () => {
    const home = tempHome();
    const id = machineId(home, {
      platform: 'linux',
      readFile: () => '00000000000000000000000000000000\n',
      run: () => null,
    });
    expect(id).not.toMatch(/^0+$/);
  });
});

describe('fingerprint', () => {
  it('is 64 hex characters, stable, and differs by machine and by node', () => {
    const a = fingerprint('machine-a', null);
    expect(a).toMatch(/^[0-9a-f]{64}$/);
    expect(fingerprint('machine-a', null)).toBe(a);
    expect(fingerprint('machine-b', null)).not.toBe(a);
    expect(fingerprint('machine-a', 'node-1')).not.toBe(a);
  });
});

describe('host information', () => {
  it('names the OS like "Linux 6.1 (x64)"', () => {
    expect(describeOs('linux', '6.1.0-18-amd64', 'x64')).toBe('Linux 6.1 (x64)');
    expect(describeOs('darwin', '23.4.0', 'arm64')).toBe('macOS 14 (arm64)');
    expect(describeOs('win32', '10.0.22631', 'x64')).toBe('Windows 11 (x64)');
    expect(describeOs('win32', '10.0.19045', 'x64')).toBe('Windows 10 (x64)');
  });

  it('summarises interfaces without MAC addresses', () => {
    const summary = networkSummary({
      eth0: [
        {
          address: '192.168.1.20',
          netmask: '255.255.255.0',
          family: 'IPv4',
          mac: 'aa:bb:cc:dd:ee:ff',
          internal: false,
          cidr: '192.168.1.20/24',
        },
        {
          address: 'fe80::1',
          netmask: 'ffff:ffff:ffff:ffff::',
          family: 'IPv6',
          mac: 'aa:bb:cc:dd:ee:ff',
          internal: false,
          cidr: 'fe80::1/64',
          scopeid: 2,
        },
      ],
    });
    expect(summary).toEqual([
      { name: 'eth0', family: 'IPv4', address: '192.168.1.20', cidr: '192.168.1.20/24', internal: false },
      { name: 'eth0', family: 'IPv6', address: 'fe80::1', cidr: 'fe80::1/64', internal: false },
    ]);
    expect(JSON.stringify(networkSummary())).not.toMatch(/([0-9a-f]{2}:){5}[0-9a-f]{2}/i);
  });
});

describe('pid file', () => {
  it('refuses a second daemon while the first is alive, and takes over a stale file', () => {
    const file = path.join(tempHome(), 'canopy-node.pid');
    const release = acquirePidFile(file);
    expect(runningPid(file)).toBe(process.pid);
    release();
    expect(fs.existsSync(file)).toBe(false);

    fs.writeFileSync(file, `${process.ppid}\n`); // a live process that is not us
    expect(() => acquirePidFile(file)).toThrow(AlreadyRunningError);

    fs.writeFileSync(file, '999999999\n'); // no such process
    const again = acquirePidFile(file);
    expect(fs.readFileSync(file, 'utf8').trim()).toBe(String(process.pid));
    again();
  });
});
