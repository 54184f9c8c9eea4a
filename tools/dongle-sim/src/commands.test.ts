import { CLI_ALLOWLIST } from '@canopy/remp';
import { describe, expect, it } from 'vitest';
import { DEFAULT_CAN_CONFIG } from './can-config';
import { type DongleView, paddingLines, runCommand } from './commands';

const VIEW: DongleView = {
  now: Date.UTC(2026, 10, 23, 12, 0, 0),
  startedAt: Date.UTC(2026, 10, 22, 10, 58, 57),
  deviceId: '0011223344556677',
  fwBuild: 'sim-2026.11',
  fwBuildNumber: 2611,
  lanIp: '127.0.0.1',
  udpPort: 51000,
  paired: true,
  secretFingerprint: 'abcdef0123456789',
  pairing: { phase: 'idle', secondsLeft: 0, wrongPins: 0 },
  remote: { address: '127.0.0.1', port: 40000, lastSeenAt: Date.UTC(2026, 10, 23, 11, 59, 58, 500) },
  counters: { frames_from_remote: 3, auth_failures: 2 },
  perId: [
    { id: '0x7df', rx: 3, tx: 0 },
    { id: '0x7e8', rx: 0, tx: 3 },
  ],
  canConfig: DEFAULT_CAN_CONFIG,
  discovery: {
    listening: ['127.255.255.255:50000'],
    answered: 4,
    lastRequesters: [{ address: '127.0.0.1', port: 50000, at: Date.UTC(2026, 10, 23, 11, 59, 57) }],
  },
};

describe('runCommand', () => {
  it('lists every allowed command in help', () => {
    const out = runCommand('help', VIEW);
    expect(out).toMatchObject({ status: 'ok', exitCode: 0, stderr: '' });
    for (const command of CLI_ALLOWLIST) expect(out.stdout).toContain(`  ${command} `);
  });

  it('shows pairing, the remote and the uptime in remote status', () => {
    const out = runCommand('remote status', VIEW).stdout;
    expect(out).toContain('paired:        yes');
    expect(out).toContain('remote:        127.0.0.1:40000 (last heard 1.5 s ago)');
    expect(out).toContain('uptime:        1d 01:01:03');
  });

  it('shows the counters and the per-id table in remote stats', () => {
    const out = runCommand('remote stats', VIEW).stdout;
    expect(out).toMatch(/auth_failures:\s+2/);
    expect(out).toMatch(/0x7e8\s+0\s+3/);
  });

  it('shows the CAN config, discovery and time', () => {
    expect(runCommand('can cfg show', VIEW).stdout).toContain('bitrate:       500000 bit/s');
    expect(runCommand('can cfg show', VIEW).stdout).toContain('sample_point:  87.5 %');
    const discovery = runCommand('discovery status', VIEW).stdout;
    expect(discovery).toContain('answered:      4 DISCOVERs');
    expect(discovery).toContain('127.0.0.1:50000');
    expect(runCommand('time status', VIEW).stdout).toContain('utc:           2026-11-23T12:00:00.000Z');
  });

  it.each(['reboot', 'help ', 'HELP', 'remote status; reboot', ''])(
    'denies %j (exact match only)',
    (command) => {
      expect(runCommand(command, VIEW)).toMatchObject({ status: 'denied', exitCode: 126, stdout: '' });
    },
  );
});

describe('paddingLines', () => {
  it('is exactly the bytes asked for, in numbered lines', () => {
    for (const n of [0, 1, 63, 64, 65, 10_000]) expect(paddingLines(n)).toHaveLength(n);
    const lines = paddingLines(64 * 3).split('\n');
    expect(lines.slice(0, 3).map((l) => l.slice(0, 10))).toEqual(['pad 000001', 'pad 000002', 'pad 000003']);
  });
});
