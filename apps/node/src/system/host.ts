import os from 'node:os';
import type { NetworkInterfaceSummary } from '@canopy/protocol';

export interface HostInfo {
  hostname: string;
  /** e.g. "Linux 6.1 (x64)", "macOS 14 (arm64)", "Windows 11 (x64)". */
  os: string;
}

export function hostInfo(): HostInfo {
  return {
    hostname: os.hostname().slice(0, 255) || 'unknown',
    os: describeOs(process.platform, os.release(), process.arch),
  };
}

export function describeOs(platform: NodeJS.Platform, release: string, arch: string): string {
  const [major = 0, minor = 0, build = 0] = release.split(/[.-]/).map((n) => Number.parseInt(n, 10) || 0);
  let name: string;
  switch (platform) {
    case 'linux':
      name = `Linux ${major}.${minor}`;
      break;
    case 'darwin':
      // os.release() is the Darwin kernel version: Darwin 20 is macOS 11, and so on.
      name = major >= 20 ? `macOS ${major - 9}` : `macOS (Darwin ${major}.${minor})`;
      break;
    case 'win32':
      name = major === 10 && build >= 22000 ? 'Windows 11' : `Windows ${major === 10 ? 10 : release}`;
      break;
    default:
      name = `${platform} ${release}`;
  }
  return `${name} (${arch})`.slice(0, 100);
}

/** Interface names and addresses for the dashboard; never MAC addresses. */
export function networkSummary(
  interfaces: NodeJS.Dict<os.NetworkInterfaceInfo[]> = os.networkInterfaces(),
): NetworkInterfaceSummary[] {
  const out: NetworkInterfaceSummary[] = [];
  for (const [name, infos] of Object.entries(interfaces)) {
    for (const info of infos ?? []) {
      // Node 18.0–18.3 reported the family as a number.
      const family =
        String(info.family) === '4' ? 'IPv4' : String(info.family) === '6' ? 'IPv6' : info.family;
      if (family !== 'IPv4' && family !== 'IPv6') continue;
      out.push({
        name: name.slice(0, 64),
        family,
        address: info.address.slice(0, 64),
        cidr: info.cidr ? info.cidr.slice(0, 70) : null,
        internal: info.internal,
      });
    }
  }
  return out.slice(0, 64);
}
