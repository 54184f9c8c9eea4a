import { usePageTitle } from '../ui/usePageTitle';

interface ComingNextPageProps {
  title: string;
  summary: string;
}

/** A section of the dashboard that is planned but not built yet. */
export function ComingNextPage({ title, summary }: ComingNextPageProps) {
  usePageTitle(title);
  return (
    <>
      <div className="page-header">
        <h1>{title}</h1>
      </div>
      <section className="card coming-next">
        <span className="badge badge-accent">Coming next</span>
        <p>This page will show {summary}.</p>
      </section>
    </>
  );
}

export const PLANNED_PAGES = {
  groups: {
    title: 'Groups',
    summary: 'two dongles bridged through the cloud: a relay with buffering and replay, a live group console',
  },
  myDevices: {
    title: 'My Devices',
    summary: 'your own devices paired by QR code and PIN: send a file, see which are available',
  },
} satisfies Record<string, ComingNextPageProps>;
