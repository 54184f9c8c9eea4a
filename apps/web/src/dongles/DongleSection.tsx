import type { Dongle } from '@canopy/protocol';
import type { ReactNode } from 'react';
import { DongleRow } from './DongleRow';

/** Fixed widths (dongles.css), so that the page's two tables line up. */
const COLUMNS = ['status', 'device', 'address', 'firmware', 'seen-by', 'ownership', 'last-seen'] as const;

interface DongleSectionProps {
  id: string;
  title: string;
  /** Null until the first answer. */
  dongles: Dongle[] | null;
  /** The first answer failed (the page says why): no "Loading…" then. */
  loadFailed: boolean;
  now: number;
  /** A line under the heading. */
  note?: ReactNode;
  /** What the section says when it has no dongles. */
  empty: ReactNode;
}

/** One table of dongles. Rows are keyed by id, so a refresh updates them in place. */
export function DongleSection({ id, title, dongles, loadFailed, now, note, empty }: DongleSectionProps) {
  return (
    <section className="section" aria-labelledby={id}>
      <h2 id={id}>{title}</h2>
      {note && <p className="muted">{note}</p>}
      <div className="card table-card">
        <table className="table dongle-table">
          <caption className="visually-hidden">{title}</caption>
          <colgroup>
            {COLUMNS.map((column) => (
              <col key={column} className={`col-${column}`} />
            ))}
          </colgroup>
          <thead>
            <tr>
              <th scope="col">Status</th>
              <th scope="col">Device ID</th>
              <th scope="col">Address</th>
              <th scope="col">Firmware</th>
              <th scope="col">Seen by</th>
              <th scope="col">Ownership</th>
              <th scope="col">Last seen</th>
            </tr>
          </thead>
          <tbody>
            {dongles?.map((dongle) => (
              <DongleRow key={dongle.id} dongle={dongle} now={now} />
            ))}
          </tbody>
        </table>
        {dongles === null && !loadFailed && (
          <p className="empty" role="status">
            Loading…
          </p>
        )}
        {dongles?.length === 0 && empty}
      </div>
    </section>
  );
}
