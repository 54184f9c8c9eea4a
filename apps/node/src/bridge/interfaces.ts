import fs from 'node:fs';
import type os from 'node:os';

/** Names of virtual and VPN interfaces that never lead to dongles (spec 002 §9.3). */
export const EXCLUDED_PREFIXES = [
  'tun',
  'tap',
  'wg',
  'utun',
  'ppp',
  'docker',
  'br-',
  'vbox',
  'vmnet',
] as const;

/** An interface discovery broadcasts on. */
export interface DiscoveryInterface {
  name: string;
  address: string;
  netmask: string;
  broadcast: string;
}

export interface InterfaceChoice {
  eligible: DiscoveryInterface[];
  /** Every interface (or address) left out, with why: for the discovery debug log. */
  skipped: Array<{ name: string; address?: string; reason: string }>;
}

export type InterfaceTable = NodeJS.Dict<os.NetworkInterfaceInfo[]>;

/**
 * Picks the interfaces to broadcast DISCOVER on: up, IPv4 with a broadcast address, not loopback, not a
 * virtual/VPN name. With an allowlist (`CANOPY_DISCOVERY_INTERFACES`), exactly the listed names are used and
 * the loopback and name rules do not apply to them: `lo` then broadcasts to 127.255.255.255, which never
 * leaves the machine (how tests and local runs discover a simulator safely).
 */
export function chooseInterfaces(
  table: InterfaceTable,
  options: { allow: readonly string[] | null; isUp: (name: string) => boolean },
): InterfaceChoice {
  const eligible: DiscoveryInterface[] = [];
  const skipped: InterfaceChoice['skipped'] = [];
  const names = Object.keys(table).sort();
  for (const name of options.allow ?? []) {
    if (!names.includes(name)) skipped.push({ name, reason: 'listed in the allowlist but not present' });
  }
  for (const name of names) {
    const allowed = options.allow !== null;
    if (allowed && !options.allow?.includes(name)) {
      skipped.push({ name, reason: 'not in the allowlist' });
      continue;
    }
    if (!allowed) {
      const prefix = EXCLUDED_PREFIXES.find((p) => name.startsWith(p));
      if (prefix) {
        skipped.push({ name, reason: `virtual or VPN interface (${prefix}*)` });
        continue;
      }
    }
    if (!options.isUp(name)) {
      skipped.push({ name, reason: 'down' });
      continue;
    }
    const addresses = table[name] ?? [];
    const v4 = addresses.filter((a) => a.family === 'IPv4');
    if (v4.length === 0) {
      skipped.push({ name, reason: 'no IPv4 address' });
      continue;
    }
    for (const a of v4) {
      if (a.internal && !allowed) {
        skipped.push({ name, address: a.address, reason: 'loopback' });
        continue;
      }
      const broadcast = broadcastAddress(a.address, a.netmask);
      if (!broadcast) {
        skipped.push({ name, address: a.address, reason: `no broadcast address (netmask ${a.netmask})` });
        continue;
      }
      eligible.push({ name, address: a.address, netmask: a.netmask, broadcast });
    }
  }
  return { eligible, skipped };
}

const toInt = (dotted: string): number | null => {
  const parts = dotted.split('.').map(Number);
  if (parts.length !== 4 || parts.some((p) => !Number.isInteger(p) || p < 0 || p > 255)) return null;
  return (
    (((parts[0] as number) << 24) |
      ((parts[1] as number) << 16) |
      ((parts[2] as number) << 8) |
      (parts[3] as number)) >>>
    0
  );
};
const toDotted = (n: number) => [n >>> 24, (n >>> 16) & 255, (n >>> 8) & 255, n & 255].join('.');

/** address | ~netmask; null when there is none (/31, /32, or not IPv4). */
export function broadcastAddress(address: string, netmask: string): string | null {
  const a = toInt(address);
  const m = toInt(netmask);
  if (a === null || m === null) return null;
  if (~m >>> 0 < 3) return null; // a /31 or /32 has no broadcast address
  return toDotted((a | ~m) >>> 0);
}

/** Whether `address` lies in the subnet of `iface`. */
export function inSubnet(address: string, iface: Pick<DiscoveryInterface, 'address' | 'netmask'>): boolean {
  const a = toInt(address);
  const b = toInt(iface.address);
  const m = toInt(iface.netmask);
  return a !== null && b !== null && m !== null && (a & m) >>> 0 === (b & m) >>> 0;
}

/** IFF_UP from /sys/class/net/<name>/flags on Linux; elsewhere every listed interface counts as up. */
export function interfaceIsUp(name: string): boolean {
  if (process.platform !== 'linux') return true;
  try {
    const flags = Number.parseInt(fs.readFileSync(`/sys/class/net/${name}/flags`, 'utf8').trim(), 16);
    return Number.isNaN(flags) ? true : (flags & 0x1) !== 0;
  } catch {
    return true;
  }
}
