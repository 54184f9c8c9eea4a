import { homePaths } from '../config';
import { describeStore, KeychainUnreachableError, loadToken } from '../credential';
import type { HealthBody } from '../health';
import { serviceManager } from '../service';
import { runningPid, VERSION } from '../system';
import { type CliContext, credentialOptions, openHome } from './context';
import { managerContext } from './service';

const HEALTH_TIMEOUT_MS = 2000;

/** `canopy-node status`: what the daemon reports on its health endpoint, or that it is not running. */
export async function status(ctx: CliContext): Promise<number> {
  const { home } = ctx.env;
  const { config, exists } = await openHome(ctx);
  const lines: string[] = [`canopy-node ${VERSION}`];
  const row = (label: string, value: string) => lines.push(`  ${`${label}:`.padEnd(12)}${value}`);

  // A keychain that cannot be reached now (locked, no session yet) still means set up: the daemon waits for it
  // and /health says so.
  const token = exists
    ? await loadToken(home, credentialOptions(ctx)).catch((err: unknown) =>
        err instanceof KeychainUnreachableError ? 'in an unreachable keychain' : null,
      )
    : null;
  if (!config.nodeId || !token) {
    row('node', 'not set up: run `canopy-node setup <KEY>` with an enrollment key from the Nodes page');
    row('home', home);
    ctx.stdout.write(`${lines.join('\n')}\n`);
    return 0;
  }

  const pid = runningPid(homePaths(home).pid);
  const health = config.healthPort > 0 ? await readHealth(config.healthPort) : null;
  const ours = health && (health.nodeId === null || health.nodeId === config.nodeId) ? health : null;

  if (ours) {
    row('daemon', `running${pid ? ` (pid ${pid})` : ''}, up ${duration(ours.uptime * 1000)}`);
    const since = ours.since ?? (ours.connection === 'connected' ? ours.lastConnectedAt : null);
    row(
      'state',
      `${ours.connection}${since ? ` since ${when(since)}` : ''}${ours.status === 'healthy' ? '' : ' (unhealthy)'}`,
    );
    if (ours.reason) row('reason', ours.reason);
    if (ours.needsReenrollment)
      row('action', 'needs re-enrollment: run `canopy-node setup <KEY>` with a new key');
  } else if (pid) {
    const why =
      config.healthPort === 0
        ? 'the health endpoint is disabled (healthPort 0)'
        : health
          ? `port ${config.healthPort} answers for another node (${health.nodeId})`
          : `its health endpoint on 127.0.0.1:${config.healthPort} does not answer`;
    row('daemon', `running (pid ${pid}), state unknown: ${why}`);
  } else {
    row('daemon', 'not running (start it with `canopy-node connect`)');
  }
  row('cloud', config.cloudUrl);
  row('node', `${config.nodeId}${config.nodeName ? ` (${config.nodeName})` : ''}`);
  if (ours) {
    row('last error', ours.lastError ?? 'none');
    row('reconnects', String(ours.reconnects));
    if (ours.lastConnectedAt) row('connected', `last at ${when(ours.lastConnectedAt)}`);
    if (ours.lastTaskAt) row('last task', when(ours.lastTaskAt));
    const dongles = donglesLine(ours.dongles);
    if (dongles) row('dongles', dongles);
    const relay = relayLines(ours.relay);
    if (relay) row('relay', relay.join(`\n${' '.repeat(14)}`));
    const mesh = meshLine(ours.mesh);
    if (mesh) row('mesh', mesh);
  }
  row('credential', describeStore(home));
  row('service', await serviceLine(ctx));
  row('logs', `${homePaths(home).logs} (canopy-node logs)`);
  ctx.stdout.write(`${lines.join('\n')}\n`);
  return 0;
}

/** Whether canopy-node runs as a service here, as the service manager sees it. */
async function serviceLine(ctx: CliContext): Promise<string> {
  try {
    const manager = serviceManager(managerContext(ctx));
    const state = await manager.state();
    if (!state.installed) return 'not installed (`canopy-node install` starts it at boot and after a crash)';
    const line = `installed as a ${manager.kind}: ${state.detail} (${state.file})`;
    return state.outdated
      ? `${line}\n${' '.repeat(14)}it runs another Node.js or copy of canopy-node than this one: run \`canopy-node install\` to update it`
      : line;
  } catch (err) {
    return `unknown (${err instanceof Error ? err.message : String(err)})`;
  }
}

/** The daemon's /health body (200 or 503 both carry it), or null when nothing canopy-like answers. */
export async function readHealth(port: number): Promise<HealthBody | null> {
  try {
    const res = await fetch(`http://127.0.0.1:${port}/health`, {
      signal: AbortSignal.timeout(HEALTH_TIMEOUT_MS),
    });
    const body = (await res.json()) as Partial<HealthBody>;
    if (typeof body?.connection !== 'string' || (body.status !== 'healthy' && body.status !== 'unhealthy'))
      return null;
    return body as HealthBody;
  } catch {
    return null;
  }
}

function when(iso: string): string {
  const at = new Date(iso);
  if (Number.isNaN(at.getTime())) return iso;
  return `${at.toLocaleString()} (${duration(Date.now() - at.getTime())} ago)`;
}

function duration(ms: number): string {
  const s = Math.max(0, Math.round(ms / 1000));
  if (s < 60) return `${s} s`;
  if (s < 3600) return `${Math.floor(s / 60)} min`;
  if (s < 86_400) return `${Math.floor(s / 3600)} h ${Math.floor((s % 3600) / 60)} min`;
  return `${Math.floor(s / 86_400)} d ${Math.floor((s % 86_400) / 3600)} h`;
}

/** The bridge's part of /health in one line: discovery on or off, what it sees, where it looks. */
function donglesLine(status: unknown): string | null {
  if (typeof status !== 'object' || status === null) return null;
  const s = status as {
    enabled?: boolean;
    interfaces?: string[];
    dongles?: number;
    online?: number;
    malformed?: number;
  };
  if (!s.enabled) return 'discovery is off';
  const where = s.interfaces && s.interfaces.length > 0 ? s.interfaces.join(', ') : 'no eligible interface';
  const bad = s.malformed ? `; ${s.malformed} invalid datagrams ignored` : '';
  return `${s.online ?? 0} online of ${s.dongles ?? 0} seen, looking on ${where}${bad}`;
}

type RelaySide = {
  groupId?: string;
  side?: string;
  state?: string;
  framesUp?: number;
  framesDown?: number;
  queued?: number;
  gaps?: number;
  missing?: number;
};

/** The data link's part of /health: connected or not, then a line per group side this node bridges. */
export function relayLines(status: unknown): string[] | null {
  if (typeof status !== 'object' || status === null) return null;
  const s = status as {
    enabled?: boolean;
    connected?: boolean;
    lastError?: string | null;
    sides?: RelaySide[];
    drops?: Record<string, number>;
  };
  if (!s.enabled) return ['off'];
  const n = (v: number | undefined) => (v ?? 0).toLocaleString('en-US');
  const sides = s.sides ?? [];
  const head = s.connected
    ? `connected, bridging ${sides.length} group side${sides.length === 1 ? '' : 's'}`
    : `not connected${s.lastError ? ` (${s.lastError})` : ''}`;
  const dropped = Object.entries(s.drops ?? {}).filter(([, count]) => count > 0);
  const lines = [
    dropped.length > 0
      ? `${head}; frames dropped: ${dropped.map(([why, count]) => `${n(count)} ${why}`).join(', ')}`
      : head,
  ];
  for (const side of sides) {
    const gaps = side.gaps ? `, ${n(side.gaps)} gaps (${n(side.missing)} frames missing)` : '';
    lines.push(
      `group ${(side.groupId ?? '?').slice(0, 8)} side ${side.side ?? '?'}: ${side.state ?? '?'}, ` +
        `${n(side.framesUp)} frames up, ${n(side.framesDown)} down, ${n(side.queued)} queued${gaps}`,
    );
  }
  return lines;
}

/** Device statuses as the owner's page names them, in the order they are listed. */
const DEVICE_STATUS_WORDS: Array<[string, string]> = [
  ['AVAILABLE', 'available'],
  ['OFFLINE', 'offline'],
  ['NEEDS_REPAIR', 'to pair again'],
];

/** The device mesh's part of /health in one line: off (and why), or its port, devices and the owner's page. */
export function meshLine(status: unknown): string | null {
  if (typeof status !== 'object' || status === null) return null;
  const s = status as { enabled?: boolean; error?: string; port?: number; uiUrl?: string; devices?: object };
  if (!s.enabled) return s.error ? `not running: ${s.error}` : 'off';
  const devices = Object.entries(s.devices ?? {}).filter(([, n]) => typeof n === 'number' && n > 0) as Array<
    [string, number]
  >;
  const total = devices.reduce((sum, [, n]) => sum + n, 0);
  const known = new Map(DEVICE_STATUS_WORDS);
  const order = (k: string) => DEVICE_STATUS_WORDS.findIndex(([w]) => w === k) >>> 0;
  const parts = devices
    .sort(([a], [b]) => order(a) - order(b))
    .map(([k, n]) => `${n} ${known.get(k) ?? k.toLowerCase()}`);
  const paired =
    total === 0
      ? 'no devices paired'
      : `${total} device${total === 1 ? '' : 's'} paired (${parts.join(', ')})`;
  return `on port ${s.port ?? '?'}, ${paired}; My Devices at ${s.uiUrl ?? '?'}`;
}
