import fs from 'node:fs';
import path from 'node:path';
import { homePaths } from './paths';

/**
 * The home holds the node's credential and identity: only its owner may read it (spec 000 §9). Checked at
 * every start; anything open to group or others is narrowed, and each fix is reported so the user learns
 * that something widened it. Returns one sentence per fix. No-op on Windows, where modes mean nothing.
 */
export function fixPermissions(home: string, platform: NodeJS.Platform = process.platform): string[] {
  if (platform === 'win32') return [];
  const p = homePaths(home);
  const fixes: string[] = [];
  const check = (target: string, wanted: number) => {
    let mode: number;
    try {
      mode = fs.statSync(target).mode & 0o777;
    } catch {
      return;
    }
    if ((mode & 0o077) === 0) return;
    try {
      fs.chmodSync(target, wanted);
      fixes.push(`${target} was readable by others (mode ${octal(mode)}): changed to ${octal(wanted)}`);
    } catch (err) {
      fixes.push(
        `${target} is readable by others (mode ${octal(mode)}) and could not be changed to ${octal(wanted)}: ${(err as Error).message}`,
      );
    }
  };
  check(p.home, 0o700);
  for (const file of [p.config, p.credential, path.join(home, 'machine-id')]) check(file, 0o600);
  check(p.logs, 0o700);
  let logs: string[] = [];
  try {
    logs = fs.readdirSync(p.logs);
  } catch {}
  for (const name of logs) if (name.endsWith('.log')) check(path.join(p.logs, name), 0o600);
  return fixes;
}

const octal = (mode: number) => `0${mode.toString(8).padStart(3, '0')}`;
