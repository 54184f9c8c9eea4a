import { formatAgo } from './duration';
import { formatDateTime } from './format';

/** "2 min ago", counting up as `now` moves on, with the exact time in the tooltip; "Never" without a time. */
export function LastSeen({ iso, now }: { iso: string | null; now: number }) {
  if (!iso) return <span className="muted">Never</span>;
  return (
    <time dateTime={iso} title={formatDateTime(iso)}>
      {formatAgo(iso, now)}
    </time>
  );
}
