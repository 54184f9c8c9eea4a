import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';

/** Where the machine id comes from; replaced in tests. */
export interface MachineIdSources {
  platform: NodeJS.Platform;
  readFile: (file: string) => string | null;
  run: (command: string, args: string[]) => string | null;
}

export const FALLBACK_ID_FILE = 'machine-id';

const defaultSources: MachineIdSources = {
  platform: process.platform,
  readFile: (file) => {
    try {
      return fs.readFileSync(file, 'utf8');
    } catch {
      return null;
    }
  },
  run: (command, args) => {
    try {
      return execFileSync(command, args, {
        encoding: 'utf8',
        timeout: 5000,
        stdio: ['ignore', 'pipe', 'ignore'],
      });
    } catch {
      return null;
    }
  },
};

/**
 * A stable identifier of this machine: the OS's own id where there is one, else a random id kept in the
 * node's home (so a copied home carries it along; the OS id is preferred for that reason).
 */
export function machineId(home: string, sources: Partial<MachineIdSources> = {}): string {
  const s = { ...defaultSources, ...sources };
  return osMachineId(s) ?? persistedId(home);
}

function osMachineId(s: MachineIdSources): string | null {
  switch (s.platform) {
    case 'linux':
    case 'freebsd':
    case 'openbsd':
      return usable(s.readFile('/etc/machine-id')) ?? usable(s.readFile('/var/lib/dbus/machine-id'));
    case 'darwin': {
      const out = s.run('ioreg', ['-rd1', '-c', 'IOPlatformExpertDevice']);
      return usable(out?.match(/"IOPlatformUUID"\s*=\s*"([^"]+)"/)?.[1]);
    }
    case 'win32': {
      const out = s.run('reg', ['query', 'HKLM\\SOFTWARE\\Microsoft\\Cryptography', '/v', 'MachineGuid']);
      return usable(out?.match(/MachineGuid\s+REG_SZ\s+(\S+)/i)?.[1]);
    }
    default:
      return null;
  }
}

/** Containers often ship an empty or all-zero machine id: that identifies nothing. */
function usable(value: string | null | undefined): string | null {
  const id = value?.trim().toLowerCase();
  if (!id || id.length < 8 || /^[0-]+$/.test(id)) return null;
  return id;
}

function persistedId(home: string): string {
  const file = path.join(home, FALLBACK_ID_FILE);
  const existing = usable(defaultSources.readFile(file));
  if (existing) return existing;
  fs.mkdirSync(home, { recursive: true, mode: 0o700 });
  const id = randomBytes(16).toString('hex');
  try {
    fs.writeFileSync(file, `${id}\n`, { mode: 0o600, flag: 'wx' });
    return id;
  } catch (err) {
    // Another process made it first: use theirs.
    const raced = usable(defaultSources.readFile(file));
    if (raced) return raced;
    throw err;
  }
}
