import type { Group } from '@canopy/protocol';
import { type ReactNode, useEffect, useMemo, useState } from 'react';
import { ConnectionBadge, DongleStatus, GroupStatus } from './ConsoleStatus';
import { ConsoleToolbar } from './ConsoleToolbar';
import { formatCount, formatTime, frameCount, noticeText } from './consoleText';
import { FrameTable } from './FrameTable';
import { applyFilter, parseIdFilter, type WayFilter } from './filter';
import { type ConsoleSource, MAX_FRAMES } from './model';
import { Sparkline } from './Sparkline';
import { useLiveConsole } from './useLiveConsole';

type LiveConsoleProps = {
  source: ConsoleSource;
  /** A group console's starting point and the page's regular refresh of it. */
  group?: Group;
  /** A dongle console's presence until the stream says otherwise. */
  online?: boolean;
  /** The server said events were missed (stream_reset): the page reloads what it shows. */
  onReset?: () => void;
  /** Under the table: the group's "Send a frame". */
  children?: ReactNode;
};

const INTRO = {
  group:
    'The CAN frames crossing this group as they happen: A → B frames were read by side A’s dongle and sent to side B, B → A the other way.',
  dongle:
    'The CAN frames of this dongle as they happen: RX read off its bus, TX written to it from the other side of its group.',
} as const;

/** What an empty table says: a dongle's frames reach the cloud only while it relays in an active group. */
const WAITING = {
  group: 'Waiting for frames…',
  dongle: 'Waiting for frames… They show here while this dongle relays in an active group (see Groups).',
} as const;

/** The live console (spec 002 §15) of a group or a dongle, fed by SSE. */
export function LiveConsole({ source, group, online, onReset, children }: LiveConsoleProps) {
  const { model, connection, pause, resume, redraw } = useLiveConsole(source);
  const [ids, setIds] = useState('');
  const [way, setWay] = useState<WayFilter>('all');

  useEffect(() => {
    if (!group) return;
    model.seedGroup(group, Date.now());
    redraw();
  }, [group, model, redraw]);

  const { resetAt } = model;
  useEffect(() => {
    if (resetAt !== null) onReset?.();
  }, [resetAt, onReset]);

  const parsed = useMemo(() => parseIdFilter(ids), [ids]);
  const idFilter = parsed.ok ? parsed.filter : null;
  const all = model.frames();
  const frames = useMemo(() => applyFilter(all, { ids: idFilter, way }), [all, idFilter, way]);
  const filtered = frames !== all;
  const now = Date.now();
  const perSecond = model.rate.perSecond(now);
  const fresh = model.newWhilePaused;
  const present = source.kind === 'dongle' ? (model.presence.get(source.id) ?? online ?? false) : false;

  return (
    <section
      className="section live-console"
      aria-labelledby={`${source.kind}-console`}
      data-slot={`${source.kind}-console`}
    >
      <div className="console-title">
        <h2 id={`${source.kind}-console`}>Live console</h2>
        <ConnectionBadge connection={connection} />
      </div>
      <p className="muted">{INTRO[source.kind]}</p>

      <div className="card console-card">
        {model.group ? (
          <GroupStatus live={model.group} />
        ) : (
          source.kind === 'dongle' && <DongleStatus online={present} />
        )}
        {model.resetAt !== null && (
          <p className="console-quiet" role="status">
            Some events were missed while the connection was down (at{' '}
            {formatTime(new Date(model.resetAt).toISOString()).slice(0, 8)}). The console carries on from
            there.
          </p>
        )}

        <ConsoleToolbar
          kind={source.kind}
          ids={ids}
          idsProblem={parsed.ok ? null : parsed.problem}
          way={way}
          paused={model.isPaused}
          onIds={setIds}
          onWay={setWay}
          onPause={pause}
          onResume={resume}
        />

        <div className="console-meta">
          <p className="console-count" aria-live="off">
            <span data-testid="console-count" data-frames={frames.length}>
              {filtered
                ? `${formatCount(frames.length)} of ${frameCount(all.length)}`
                : frameCount(all.length)}
            </span>
            {all.length >= MAX_FRAMES && (
              <span className="muted"> (the newest {formatCount(MAX_FRAMES)} are kept)</span>
            )}
            {model.isPaused && (
              <span className="console-paused" data-testid="console-new" data-new={fresh}>
                {' '}
                · Paused: {formatCount(fresh)} new
              </span>
            )}
            {model.ignored > 0 && (
              <span className="muted"> · {formatCount(model.ignored)} unreadable messages skipped</span>
            )}
          </p>
          <div className="console-rate">
            <Sparkline series={model.rate.series(now)} />
            <span>
              <strong data-testid="console-rate">{formatCount(perSecond)}</strong> frames/s
              {model.oneIn > 1 && (
                <span className="muted"> shown, about {formatCount(perSecond * model.oneIn)} on the bus</span>
              )}
            </span>
            {model.oneIn > 1 && (
              <span
                className="badge badge-waiting"
                data-testid="console-sampling"
                title="The bus is busier than the console can show. Every frame is still relayed."
              >
                Sampling 1 in {model.oneIn}
              </span>
            )}
          </div>
        </div>

        <FrameTable
          frames={frames}
          resetKey={`${ids}|${way}`}
          empty={all.length === 0 ? WAITING[source.kind] : 'No frame matches the filters.'}
        />
      </div>

      {children}

      {model.notices.length > 0 && (
        <details className="console-notices">
          <summary>Events and errors ({model.notices.length})</summary>
          <ul>
            {model.notices.map((notice) => (
              <li key={notice.key} className={`notice-${notice.level}`}>
                <span className="console-mono muted">{formatTime(notice.ts)}</span> {noticeText(notice)}
              </li>
            ))}
          </ul>
        </details>
      )}
    </section>
  );
}
