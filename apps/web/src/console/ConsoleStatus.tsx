import { ModeBadge } from '../groups/ModeBadge';
import { OnlineStatus } from '../ui/OnlineStatus';
import { backlogText } from './consoleText';
import { type Backlog, catchUp, type GroupLive } from './groupLive';
import type { Connection } from './useLiveConsole';

const CONNECTION = {
  connecting: { label: 'Connecting…', tone: 'muted' },
  live: { label: 'Live', tone: 'accent' },
  reconnecting: { label: 'Reconnecting…', tone: 'waiting' },
} as const;

/** Whether the console's stream is flowing: Live, or Reconnecting… while the browser opens it again. */
export function ConnectionBadge({ connection }: { connection: Connection }) {
  const { label, tone } = CONNECTION[connection];
  return (
    <span className={`badge badge-${tone} connection`} data-connection={connection} role="status">
      {connection === 'live' && <span className="live-dot" aria-hidden="true" />}
      {label}
    </span>
  );
}

/** A group's mode, each side online or not, and what waits in the buffer each way (spec 002 §13.3). */
export function GroupStatus({ live }: { live: GroupLive }) {
  return (
    <div className="console-status">
      <div className="console-status-row">
        <ModeBadge mode={live.mode} />
        <span className="console-side" data-side="a">
          Side A <OnlineStatus online={live.online.a} />
        </span>
        <span className="console-side" data-side="b">
          Side B <OnlineStatus online={live.online.b} />
        </span>
      </div>
      <dl className="console-backlog">
        <BacklogLine label="Waiting A → B" backlog={live.a_to_b} />
        <BacklogLine label="Waiting B → A" backlog={live.b_to_a} />
      </dl>
      {live.pressure && (
        <div className="alert alert-warning console-pressure" role="alert">
          The buffer is close to its limit (the number of frames it holds, or how long the oldest has waited).
          If the offline side doesn't come back soon, the oldest waiting frames will be dropped.
        </div>
      )}
    </div>
  );
}

function BacklogLine({ label, backlog }: { label: string; backlog: Backlog }) {
  const progress = catchUp(backlog);
  return (
    <div className="console-backlog-line">
      <dt>{label}</dt>
      <dd>
        {backlogText(backlog.frames, progress)}
        {progress !== null && (
          <progress
            className="catch-up"
            max={100}
            value={Math.floor(progress * 100)}
            aria-label={`${label}: catching up`}
          />
        )}
      </dd>
    </div>
  );
}

/** A dongle's console: whether one of the owner's nodes hears the dongle now. */
export function DongleStatus({ online }: { online: boolean }) {
  return (
    <div className="console-status">
      <div className="console-status-row">
        <OnlineStatus online={online} />
      </div>
    </div>
  );
}
