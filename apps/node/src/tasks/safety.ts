import { lstat, realpath } from 'node:fs/promises';
import { isIPv4, isIPv6 } from 'node:net';
import path from 'node:path';
import { TaskError } from './errors';

/**
 * Where file tasks may go. A path is resolved (relative to the workspace root, `~` to the user's home), the
 * longest existing part is resolved through symlinks, and the result must lie inside the real workspace
 * root and outside every sensitive place — both as written and as resolved, so neither `..` nor a symlink
 * gets out, and a symlink into the workspace does not launder a secret.
 *
 * This guards file_read, file_write and the shell's working folder. It is not a sandbox for the shell: a
 * command that was allowed to run can read anything its user can.
 */
export interface PathRules {
  workspaceRoot: string;
  /** The user's home: `~` in task paths, and the base of the sensitive places. */
  userHome: string;
  /** canopy-node's own home (credentials, state): never reachable by a task. */
  nodeHome: string;
  /** Compare paths ignoring case (default: on macOS and Windows, whose usual file systems do). */
  caseInsensitive?: boolean;
}

/** Credential stores under the user's home; a task can never touch them, even inside the workspace. */
export const SENSITIVE_HOME_PATHS = [
  '.ssh',
  '.gnupg',
  '.aws',
  '.azure',
  '.config/gcloud',
  '.config/gh',
  '.kube',
  '.docker',
  '.password-store',
  '.netrc',
  '.pgpass',
  '.git-credentials',
  'Library/Keychains',
  '.local/share/keyrings',
  '.canopy-node',
] as const;

/** System secrets (password hashes, sudo rules, SSH host keys). */
export const SENSITIVE_SYSTEM_PATHS = [
  '/etc/shadow',
  '/etc/shadow-',
  '/etc/gshadow',
  '/etc/gshadow-',
  '/etc/master.passwd',
  '/etc/spwd.db',
  '/etc/sudoers',
  '/etc/sudoers.d',
  '/etc/ssh',
  '/private/etc/master.passwd',
  '/private/etc/sudoers',
  '/private/etc/sudoers.d',
  '/private/etc/ssh',
  '/var/db/dslocal',
] as const;

const refused = (message: string) => new TaskError('PATH_REFUSED', message);

export function sensitivePaths(userHome: string, nodeHome: string): string[] {
  const home = path.resolve(userHome);
  return [
    ...SENSITIVE_HOME_PATHS.map((p) => path.join(home, ...p.split('/'))),
    path.resolve(nodeHome),
    ...SENSITIVE_SYSTEM_PATHS,
  ];
}

export function isInside(child: string, parent: string, caseInsensitive = false): boolean {
  const c = caseInsensitive ? child.toLowerCase() : child;
  const p = caseInsensitive ? parent.toLowerCase() : parent;
  const rel = path.relative(p, c);
  return rel === '' || (rel !== '..' && !rel.startsWith(`..${path.sep}`) && !path.isAbsolute(rel));
}

/**
 * The pure rule: why `candidates` (one path as written and as resolved) are refused, or null. `realPath`
 * must be inside `realRoot`; no candidate may be inside a sensitive place (given as written and resolved).
 */
export function refusalReason(
  realPath: string,
  candidates: readonly string[],
  realRoot: string,
  denied: readonly string[],
  caseInsensitive = false,
): string | null {
  if (!isInside(realPath, realRoot, caseInsensitive)) return 'the path is outside the workspace folder';
  for (const candidate of candidates) {
    for (const d of denied) {
      if (isInside(candidate, d, caseInsensitive)) return 'the path is in a protected location';
    }
  }
  return null;
}

/** The absolute path a task's `path` names, before symlinks: relative paths start at the workspace root. */
export function lexicalPath(input: string, rules: Pick<PathRules, 'workspaceRoot' | 'userHome'>): string {
  if (input === '~') return path.resolve(rules.userHome);
  if (input.startsWith('~/') || input.startsWith(`~${path.sep}`)) {
    return path.resolve(rules.userHome, input.slice(2));
  }
  return path.resolve(rules.workspaceRoot, input);
}

/**
 * Resolves a task's path to the real absolute path it would touch, or throws a TaskError PATH_REFUSED. The path
 * need not exist (file_write creates it); its longest existing part is resolved through symlinks.
 */
export async function resolveWorkspacePath(input: string, rules: PathRules): Promise<string> {
  if (input.length === 0) throw refused('the path is empty');
  if (input.includes('\0')) throw refused('the path contains a NUL character');
  if (process.platform === 'win32' && /^[\\/]{2}/.test(input)) {
    throw refused('network and device paths are not allowed');
  }
  const ci = rules.caseInsensitive ?? (process.platform === 'darwin' || process.platform === 'win32');
  const lexical = lexicalPath(input, rules);
  const real = await realpathLongest(lexical);
  const realRoot = await realpathLongest(path.resolve(rules.workspaceRoot));
  const denied = sensitivePaths(rules.userHome, rules.nodeHome);
  const deniedReal = await Promise.all(denied.map((d) => realpathLongest(d).catch(() => d)));
  const reason = refusalReason(real, [lexical, real], realRoot, [...denied, ...deniedReal], ci);
  if (reason) throw refused(`${reason}: ${input}`);
  return real;
}

/**
 * realpath of the longest existing prefix, with the missing rest appended. A symlink that points nowhere is
 * refused: writing through it would create its target wherever it points.
 */
async function realpathLongest(absolute: string): Promise<string> {
  const tail: string[] = [];
  let current = absolute;
  for (;;) {
    try {
      return path.join(await realpath(current), ...tail);
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code === 'ENOTDIR') throw refused(`a part of the path is not a folder: ${current}`);
      if (code !== 'ENOENT') throw err;
    }
    const exists = await lstat(current).then(
      () => true,
      () => false,
    );
    if (exists) throw refused(`the path goes through a broken symbolic link: ${current}`);
    const parent = path.dirname(current);
    if (parent === current) return absolute;
    tail.unshift(path.basename(current));
    current = parent;
  }
}

// ---- network addresses ----

/**
 * True for addresses a task must never reach: loopback, private, link-local, CGNAT, unspecified, multicast
 * and reserved ranges, in IPv4 or IPv6, including IPv4 embedded in IPv6 (mapped `::ffff:a.b.c.d`,
 * compatible `::a.b.c.d`, NAT64 `64:ff9b::/96`, 6to4 `2002::/16`). Anything that does not parse is
 * forbidden. A future fetch task must resolve the host name, check every address, and connect to the
 * checked address (not resolve again), or DNS rebinding gets around the check.
 */
export function isForbiddenAddress(ip: string): boolean {
  let s = ip.trim();
  if (s.startsWith('[') && s.endsWith(']')) s = s.slice(1, -1);
  const zone = s.indexOf('%');
  if (zone !== -1) s = s.slice(0, zone);
  if (isIPv4(s)) return isForbiddenIPv4(parseIPv4(s));
  if (isIPv6(s)) return isForbiddenIPv6(parseIPv6(s));
  return true;
}

type V4 = [number, number, number, number];

const V4_FORBIDDEN: ReadonlyArray<[V4, number]> = [
  [[0, 0, 0, 0], 8], // "this network", 0.0.0.0
  [[10, 0, 0, 0], 8],
  [[100, 64, 0, 0], 10], // carrier-grade NAT (also Tailscale)
  [[127, 0, 0, 0], 8],
  [[169, 254, 0, 0], 16], // link-local, cloud metadata services
  [[172, 16, 0, 0], 12],
  [[192, 0, 0, 0], 24],
  [[192, 168, 0, 0], 16],
  [[198, 18, 0, 0], 15],
  [[224, 0, 0, 0], 4], // multicast
  [[240, 0, 0, 0], 4], // reserved, broadcast
];

function parseIPv4(s: string): V4 {
  const [a = 0, b = 0, c = 0, d = 0] = s.split('.').map(Number);
  return [a, b, c, d];
}

function v4ToInt(v: V4): number {
  return ((v[0] << 24) | (v[1] << 16) | (v[2] << 8) | v[3]) >>> 0;
}

function isForbiddenIPv4(v: V4): boolean {
  const n = v4ToInt(v);
  return V4_FORBIDDEN.some(([base, bits]) => {
    const mask = bits === 0 ? 0 : (~0 << (32 - bits)) >>> 0;
    return (n & mask) >>> 0 === (v4ToInt(base) & mask) >>> 0;
  });
}

/** Eight 16-bit groups; the input is already known to be valid IPv6. */
function parseIPv6(input: string): number[] {
  let s = input;
  const lastColon = s.lastIndexOf(':');
  if (s.slice(lastColon + 1).includes('.')) {
    const [a, b, c, d] = parseIPv4(s.slice(lastColon + 1));
    s = `${s.slice(0, lastColon + 1)}${((a << 8) | b).toString(16)}:${((c << 8) | d).toString(16)}`;
  }
  const parseGroups = (part: string) =>
    part === '' ? [] : part.split(':').map((h) => Number.parseInt(h, 16));
  const gap = s.indexOf('::');
  if (gap === -1) return parseGroups(s);
  const head = parseGroups(s.slice(0, gap));
  const tail = parseGroups(s.slice(gap + 2));
  return [...head, ...new Array<number>(8 - head.length - tail.length).fill(0), ...tail];
}

function embeddedV4(hi: number, lo: number): V4 {
  return [hi >> 8, hi & 0xff, lo >> 8, lo & 0xff];
}

function isForbiddenIPv6(g: number[]): boolean {
  const [g0 = 0, g1 = 0, g2 = 0, g3 = 0, g4 = 0, g5 = 0, g6 = 0, g7 = 0] = g;
  const firstFiveZero = g0 === 0 && g1 === 0 && g2 === 0 && g3 === 0 && g4 === 0;
  // ::/96 holds ::, ::1 and the deprecated IPv4-compatible form; ::ffff:0:0/96 is IPv4-mapped.
  if (firstFiveZero && g5 === 0) return true;
  if (firstFiveZero && g5 === 0xffff) return isForbiddenIPv4(embeddedV4(g6, g7));
  // NAT64 (64:ff9b::/96) and 6to4 (2002::/16) carry an IPv4 address a gateway will connect to.
  if (g0 === 0x64 && g1 === 0xff9b && g2 === 0 && g3 === 0 && g4 === 0 && g5 === 0) {
    return isForbiddenIPv4(embeddedV4(g6, g7));
  }
  if (g0 === 0x2002) return isForbiddenIPv4(embeddedV4(g1, g2));
  if ((g0 & 0xfe00) === 0xfc00) return true; // unique local fc00::/7
  if ((g0 & 0xffc0) === 0xfe80) return true; // link-local fe80::/10
  if ((g0 & 0xffc0) === 0xfec0) return true; // deprecated site-local fec0::/10
  if ((g0 & 0xff00) === 0xff00) return true; // multicast
  return false;
}
