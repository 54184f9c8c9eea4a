import { formatBytes, formatDuration } from '../ui/duration';

const LABELS: Record<string, string> = {
  hostname: 'Hostname',
  platform: 'Platform',
  release: 'Release',
  arch: 'Architecture',
  cpus: 'CPUs',
  memory_total: 'Memory',
  memory_free: 'Free memory',
  uptime_s: 'Uptime',
  node_version: 'Node.js',
  load_avg: 'Load average (1, 5, 15 min)',
};

function label(key: string): string {
  return LABELS[key] ?? key.charAt(0).toUpperCase() + key.slice(1).replaceAll('_', ' ');
}

function value(key: string, raw: unknown): string {
  if (typeof raw === 'number' && key.startsWith('memory')) return formatBytes(raw);
  if (typeof raw === 'number' && key.endsWith('_s')) return formatDuration(raw);
  if (Array.isArray(raw) && raw.every((item) => typeof item === 'number')) {
    return raw.map((item) => (Number.isInteger(item) ? item : item.toFixed(2))).join(', ');
  }
  if (typeof raw === 'string' || typeof raw === 'number' || typeof raw === 'boolean') return String(raw);
  return JSON.stringify(raw);
}

/** Known fields in a reading order (the server's JSON storage does not keep the node's); others after. */
function ordered(pairs: [string, unknown][]): [string, unknown][] {
  const known = Object.keys(LABELS);
  const rank = (key: string) => (known.includes(key) ? known.indexOf(key) : known.length);
  return [...pairs].sort(([a], [b]) => rank(a) - rank(b) || a.localeCompare(b));
}

export function SystemInfoResult({ pairs }: { pairs: [string, unknown][] }) {
  return (
    <table className="table kv-table">
      <caption className="visually-hidden">System information</caption>
      <tbody>
        {ordered(pairs).map(([key, raw]) => (
          <tr key={key}>
            <th scope="row">{label(key)}</th>
            <td>{value(key, raw)}</td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}
