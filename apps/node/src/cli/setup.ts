import { ENROLLMENT_KEY_PREFIX, RegisterRequest } from '@canopy/protocol';
import { type Config, homePaths, updateConfig } from '../config';
import { describeStore, loadToken, saveToken } from '../credential';
import { fingerprint, hostInfo, machineId, networkSummary, runningPid, VERSION } from '../system';
import { type CliContext, credentialOptions, openHome } from './context';
import { CliError, EXIT } from './errors';
import { register } from './register';
import { readSecret } from './secret-input';

export interface SetupRequest {
  /** The key as typed on the command line; '-' or undefined: read it from stdin or a prompt. */
  key: string | undefined;
  cloud: string | undefined;
  name: string | undefined;
}

/** Registers this machine with an enrollment key and keeps the agent token. Returns the new config. */
export async function setup(ctx: CliContext, request: SetupRequest): Promise<Config> {
  const fromArgv = request.key !== undefined && request.key !== '-';
  const key = fromArgv ? (request.key as string).trim() : await readSecret('Enrollment key: ');
  checkKey(key);
  const { home } = ctx.env;
  const opened = await openHome(ctx);
  const cloudUrl = request.cloud !== undefined ? checkCloudUrl(request.cloud) : opened.config.cloudUrl;
  const name = request.name?.trim() || undefined;
  if (name !== undefined && name.length > 100)
    throw new CliError('--name is longer than 100 characters.', EXIT.USAGE);
  const previousNode = opened.config.nodeId;

  const host = hostInfo();
  const body = RegisterRequest.parse({
    enrollment_key: key,
    hostname: host.hostname,
    os: host.os,
    version: VERSION,
    network_interfaces: networkSummary(),
    fingerprint: fingerprint(machineId(home), null),
  });
  ctx.stdout.write(`Registering ${host.hostname} with ${cloudUrl} …\n`);
  // `name` is not part of RegisterRequest (yet): a cloud that does not know it ignores it.
  const registered = await register(cloudUrl, name ? { ...body, name } : body);

  const store = await saveToken(home, registered.agent_token, credentialOptions(ctx));
  const config = updateConfig(home, {
    nodeId: registered.agent_id,
    cloudUrl,
    wsUrl: wsUrlFrom(registered.ws_url, cloudUrl),
    nodeName: name ?? opened.config.nodeName,
  });

  const lines = [
    previousNode && previousNode !== registered.agent_id
      ? `This machine was node ${previousNode}; it is now registered as node ${registered.agent_id}.`
      : `Registered as node ${registered.agent_id}${name ? ` (${name})` : ''}.`,
    `  cloud:      ${cloudUrl}`,
    `  credential: kept in ${describeStore(home)}${store === 'file' ? ' (no OS keychain answered)' : ''}`,
    `  config:     ${home}`,
    '',
    fromArgv
      ? 'The enrollment key is now in your shell history and sets up any machine until it is revoked on the Nodes page: next time, `canopy-node setup -` reads it from stdin instead.'
      : 'Keep the enrollment key secret, or revoke it on the Nodes page once your machines are set up.',
    runningPid(homePaths(home).pid)
      ? `canopy-node is running from this home (pid ${runningPid(homePaths(home).pid)}): restart it to use the new registration (\`canopy-node restart\` when it runs as a service).`
      : 'Next: `canopy-node install` runs it as a service (starts at boot, restarts after a crash), or `canopy-node connect` runs it in this terminal.',
  ];
  ctx.stdout.write(`${lines.join('\n')}\n`);
  return config;
}

/** True when this home has a node id and a token to connect with. */
export async function isSetUp(ctx: CliContext, config: Config): Promise<boolean> {
  if (!config.nodeId) return false;
  return (await loadToken(ctx.env.home, credentialOptions(ctx))) !== null;
}

function checkKey(key: string): void {
  if (!key) throw new CliError('The enrollment key is empty.', EXIT.USAGE);
  if (!key.startsWith(ENROLLMENT_KEY_PREFIX) || key.length < 10 || key.length > 200 || /\s/.test(key)) {
    throw new CliError(
      `That does not look like an enrollment key (they start with ${ENROLLMENT_KEY_PREFIX}). Copy it from the Nodes page of your Canopy cloud.`,
      EXIT.USAGE,
    );
  }
}

export function checkCloudUrl(value: string): string {
  const trimmed = value.trim().replace(/\/+$/, '');
  if (!URL.canParse(trimmed) || !['http:', 'https:'].includes(new URL(trimmed).protocol)) {
    throw new CliError(`--cloud must be an http:// or https:// URL (got "${value}").`, EXIT.USAGE);
  }
  return trimmed;
}

/**
 * The cloud's ws_url may be absolute (ws/wss, or http/https meaning the same) or relative to the cloud. A
 * cloud without PUBLIC_URL announces itself as localhost; from another machine that names the wrong host,
 * so a loopback ws_url is replaced by the address this machine actually reached the cloud at.
 */
export function wsUrlFrom(wsUrl: string, cloudUrl: string): string {
  const u = new URL(wsUrl, `${cloudUrl}/`);
  if (u.protocol === 'http:') u.protocol = 'ws:';
  if (u.protocol === 'https:') u.protocol = 'wss:';
  const reached = new URL(cloudUrl);
  if (isLoopback(u.hostname) && !isLoopback(reached.hostname)) {
    u.protocol = reached.protocol === 'https:' ? 'wss:' : 'ws:';
    u.hostname = reached.hostname;
    u.port = reached.port;
  }
  return u.toString();
}

function isLoopback(hostname: string): boolean {
  const h = hostname.replace(/^\[|\]$/g, '').toLowerCase();
  return h === 'localhost' || h.endsWith('.localhost') || h === '::1' || /^127\./.test(h);
}
