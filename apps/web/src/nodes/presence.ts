import type { AgentSummary } from '@canopy/protocol';
import { formatDuration } from '../ui/duration';

const CONNECTIONS: Record<NonNullable<AgentSummary['connection_type']>, string> = {
  ws: 'WebSocket',
  poll: 'Polling',
};

/** How an online node reaches the cloud; nothing for an offline one. */
export function connectionText(agent: AgentSummary): string | null {
  return agent.online && agent.connection_type ? CONNECTIONS[agent.connection_type] : null;
}

/** The uptime the node last reported, while it is online. */
export function uptimeText(agent: AgentSummary): string | null {
  return agent.online && agent.uptime_s !== null ? formatDuration(agent.uptime_s) : null;
}

const SERVICES: Record<NonNullable<AgentSummary['service']>, string> = {
  systemd: 'a systemd service',
  launchd: 'a launchd agent',
  windows: 'a Windows service',
};

/** "Always on": a service manager runs it (starts at boot, restarted after a crash). Null otherwise. */
export function serviceText(agent: AgentSummary): string | null {
  return agent.service ? `Always on: runs as ${SERVICES[agent.service]}` : null;
}
