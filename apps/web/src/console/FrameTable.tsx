import { memo, useEffect, useLayoutEffect, useRef, useState } from 'react';
import { formatCanId, formatTime, spacedHex, WAY_LABELS } from './consoleText';
import type { ShownFrame } from './model';
import { obdHint } from './obd';
import { anchoredScrollTop, countNewer, rowWindow } from './windowing';

/** Must match `.console-table tbody tr` in console.css: the windowing counts in whole rows. */
export const ROW_HEIGHT = 30;
const OVERSCAN = 10;

interface FrameTableProps {
  frames: ShownFrame[];
  /** When it changes (another filter), the table goes back to the top. */
  resetKey: string;
  /** What to say while there is no frame to show. */
  empty: string;
}

/**
 * The frames, newest first, virtualised: only the rows in view (and a few around them) are in the DOM; padding
 * rows stand in for the others, so that the scroll bar is that of the whole list. Scrolled down, the rows in
 * view stay put as new ones arrive above them (a button leads back to the newest); at the top, the table
 * follows the newest.
 */
export function FrameTable({ frames, resetKey, empty }: FrameTableProps) {
  const scroller = useRef<HTMLElement>(null);
  const [view, setView] = useState({ top: 0, height: 16 * ROW_HEIGHT });
  const newest = useRef(0);

  useLayoutEffect(() => {
    const el = scroller.current;
    const now = frames[0]?.n ?? 0;
    const before = newest.current;
    newest.current = now;
    if (!el || before === 0 || now <= before || el.scrollTop <= 0) return;
    el.scrollTop = anchoredScrollTop(el.scrollTop, countNewer(frames, before), ROW_HEIGHT);
    setView((v) => ({ ...v, top: el.scrollTop }));
  }, [frames]);

  // biome-ignore lint/correctness/useExhaustiveDependencies: a new filter is a new list: start at its top.
  useEffect(() => {
    const el = scroller.current;
    if (el) el.scrollTop = 0;
    setView((v) => ({ ...v, top: 0 }));
  }, [resetKey]);

  useEffect(() => {
    const el = scroller.current;
    if (!el) return;
    const measure = () => setView((v) => ({ ...v, height: el.clientHeight }));
    measure();
    const observer = new ResizeObserver(measure);
    observer.observe(el);
    return () => observer.disconnect();
  }, []);

  const w = rowWindow({
    count: frames.length,
    rowHeight: ROW_HEIGHT,
    scrollTop: view.top,
    viewportHeight: view.height,
    overscan: OVERSCAN,
  });
  const rows = frames.slice(w.start, w.end);

  const toNewest = () => {
    const el = scroller.current;
    if (el) el.scrollTop = 0;
    setView((v) => ({ ...v, top: 0 }));
  };

  return (
    <div className="console-table-wrap">
      {view.top > 0 && frames.length > 0 && (
        <button type="button" className="button button-small console-to-newest" onClick={toNewest}>
          ↑ Back to the newest
        </button>
      )}
      <section
        ref={scroller}
        className="console-scroll"
        // biome-ignore lint/a11y/noNoninteractiveTabindex: the scroll box must be reachable to scroll by keyboard.
        tabIndex={0}
        aria-label="CAN frames, newest first"
        onScroll={(event) => {
          const top = event.currentTarget.scrollTop;
          setView((v) => (v.top === top ? v : { ...v, top }));
        }}
      >
        <table className="console-table" aria-rowcount={frames.length + 1}>
          <colgroup>
            <col className="col-time" />
            <col className="col-way" />
            <col className="col-canid" />
            <col className="col-dlc" />
            <col className="col-data" />
            <col className="col-hint" />
          </colgroup>
          <thead>
            <tr aria-rowindex={1}>
              <th scope="col">Time</th>
              <th scope="col">Direction</th>
              <th scope="col">CAN id</th>
              <th scope="col">DLC</th>
              <th scope="col">Data</th>
              <th scope="col">Decoded</th>
            </tr>
          </thead>
          <tbody>
            {w.padTop > 0 && (
              <tr className="console-pad" style={{ height: w.padTop }}>
                <td colSpan={6} />
              </tr>
            )}
            {rows.map((frame, i) => (
              <FrameRow key={frame.n} frame={frame} index={w.start + i} />
            ))}
            {w.padBottom > 0 && (
              <tr className="console-pad" style={{ height: w.padBottom }}>
                <td colSpan={6} />
              </tr>
            )}
          </tbody>
        </table>
        {frames.length === 0 && <p className="console-empty">{empty}</p>}
      </section>
    </div>
  );
}

const FrameRow = memo(function FrameRow({ frame, index }: { frame: ShownFrame; index: number }) {
  const hint = obdHint(frame.id, frame.data, frame.extended);
  return (
    <tr aria-rowindex={index + 2} data-way={frame.way}>
      <td className="console-mono">{formatTime(frame.ts)}</td>
      <td>
        <span className={`way way-${frame.way}`}>{WAY_LABELS[frame.way]}</span>
      </td>
      <td className="console-mono">{formatCanId(frame.id, frame.extended)}</td>
      <td className="console-mono">{frame.dlc}</td>
      <td className="console-mono console-data">{spacedHex(frame.data)}</td>
      <td className="console-hint">{hint}</td>
    </tr>
  );
});
