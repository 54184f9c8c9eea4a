import { type AllowedCommand, type CanConfig, CLI_ALLOWLIST, isAllowedCommand } from '@canopy/remp';
import { describeCanConfig } from './can-config';
import type { PairingSnapshot } from './pairing';

/*
 * The firmware's command console (REMP type 4), without I/O: the text each allowlisted command prints,
 * from a snapshot of the dongle. Exit codes follow the shell's habits: 0 ok, 124 timeout, 126 denied.
 */

export const EXIT = { ok: 0, timeout: 124, denied: 126 } as const;

export interface Requester {
  address: string;
  port: number;
  at: number;
}

export interface DiscoveryView {
  /** Where DISCOVERs are heard, e.g. ["127.255.255.255:50000"]. */
  listening: string[];
  answered: number;
  lastRequesters: Requester[];
}

export interface DongleView {
  now: number;
  startedAt: number;
  deviceId: string;
  fwBuild: string;
  fwBuildNumber: number;
  lanIp: string;
  udpPort: number;
  paired: boolean;
  secretFingerprint: string;
  pairing: PairingSnapshot;
  remote: { address: string; port: number; lastSeenAt: number } | undefined;
  counters: Record<string, number>;
  perId: Array<{ id: string; rx: number; tx: number }>;
  canConfig: CanConfig;
  discovery: DiscoveryView;
}

export interface CommandOutput {
  status: 'ok' | 'denied';
  exitCode: number;
  stdout: string;
  stderr: string;
}

const DESCRIPTIONS: Record<AllowedCommand, string> = {
  help: 'this list',
  'remote status': 'pairing, the remote peer, uptime',
  'remote stats': 'frame counters, auth failures, per-CAN-ID counters',
  'can cfg show': 'the CAN controller configuration',
  'discovery status': 'the discovery port, DISCOVERs answered, the last requesters',
  'time status': 'the clock and the uptime',
};

/** Per-CAN-ID rows shown by `remote stats`, busiest first. */
const MAX_ID_ROWS = 32;

export function runCommand(command: string, view: DongleView): CommandOutput {
  if (!isAllowedCommand(command)) {
    return {
      status: 'denied',
      exitCode: EXIT.denied,
      stdout: '',
      stderr: `denied: ${JSON.stringify(command.slice(0, 80))} is not an allowed command (try: help)\n`,
    };
  }
  return { status: 'ok', exitCode: EXIT.ok, stdout: `${OUTPUT[command](view)}\n`, stderr: '' };
}

const OUTPUT: Record<AllowedCommand, (v: DongleView) => string> = {
  help: () => ['Commands:', ...CLI_ALLOWLIST.map((c) => `  ${c.padEnd(18)}${DESCRIPTIONS[c]}`)].join('\n'),
  'remote status': (v) =>
    [
      `device_id:     ${v.deviceId}`,
      `fw_build:      ${v.fwBuild} (build ${v.fwBuildNumber})`,
      `paired:        ${v.paired ? 'yes' : 'no'}`,
      `pairing:       ${pairingLine(v.pairing)}`,
      `remote:        ${
        v.remote
          ? `${v.remote.address}:${v.remote.port} (last heard ${ago(v.now - v.remote.lastSeenAt)})`
          : 'none (no authenticated message yet)'
      }`,
      `secret:        fp ${v.secretFingerprint}`,
      `uptime:        ${uptime(v.now - v.startedAt)}`,
    ].join('\n'),
  'remote stats': (v) => {
    const rows = [...v.perId].sort((a, b) => b.rx + b.tx - (a.rx + a.tx)).slice(0, MAX_ID_ROWS);
    return [
      ...Object.entries(v.counters).map(([name, n]) => `${`${name}:`.padEnd(20)}${n}`),
      `per CAN id (${v.perId.length}${v.perId.length > MAX_ID_ROWS ? `, busiest ${MAX_ID_ROWS}` : ''}):`,
      `  ${'id'.padEnd(12)}${'rx'.padStart(10)}${'tx'.padStart(10)}`,
      ...rows.map((r) => `  ${r.id.padEnd(12)}${String(r.rx).padStart(10)}${String(r.tx).padStart(10)}`),
    ].join('\n');
  },
  'can cfg show': (v) => describeCanConfig(v.canConfig),
  'discovery status': (v) =>
    [
      `listening:     ${v.discovery.listening.join(', ')}`,
      `udp_port:      ${v.udpPort} (REMP, ${v.lanIp})`,
      `answered:      ${v.discovery.answered} DISCOVERs`,
      'last requesters:',
      ...(v.discovery.lastRequesters.length === 0
        ? ['  (none)']
        : v.discovery.lastRequesters.map(
            (r) => `  ${`${r.address}:${r.port}`.padEnd(22)}${ago(v.now - r.at)}`,
          )),
    ].join('\n'),
  'time status': (v) =>
    [
      `utc:           ${new Date(v.now).toISOString()}`,
      `uptime:        ${uptime(v.now - v.startedAt)}`,
      'source:        host clock (simulated RTC, no NTP)',
    ].join('\n'),
};

function pairingLine(p: PairingSnapshot): string {
  if (p.phase === 'pairing') return `pairing mode (${p.secondsLeft} s left, ${p.wrongPins} wrong PINs)`;
  if (p.phase === 'cooldown') return `cooldown after 5 wrong PINs (${p.secondsLeft} s left)`;
  return 'normal';
}

const ago = (ms: number) => `${(Math.max(0, ms) / 1000).toFixed(1)} s ago`;

function uptime(ms: number): string {
  const s = Math.floor(Math.max(0, ms) / 1000);
  const two = (n: number) => String(n).padStart(2, '0');
  return `${Math.floor(s / 86400)}d ${two(Math.floor(s / 3600) % 24)}:${two(Math.floor(s / 60) % 60)}:${two(s % 60)}`;
}

/**
 * `bytes` bytes of numbered lines (`pad 000001 ….`), for tests that need long, chunked output whose order
 * can be checked. The last line is cut to make the total exact.
 */
export function paddingLines(bytes: number): string {
  const lines: string[] = [];
  let total = 0;
  for (let n = 1; total < bytes; n++) {
    const line = `pad ${String(n).padStart(6, '0')} ${'.'.repeat(52)}\n`;
    lines.push(line);
    total += line.length;
  }
  return lines.join('').slice(0, bytes);
}
