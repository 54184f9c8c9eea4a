import { useMemo } from 'react';
import { Link } from 'react-router';
import { donglesApi } from '../api/dongles';
import { errorMessage } from '../api/messages';
import { ErrorAlert } from '../ui/Alert';
import { useNow } from '../ui/useNow';
import { usePageTitle } from '../ui/usePageTitle';
import { usePolled } from '../ui/usePolled';
import { DongleSection } from './DongleSection';
import { sortDongles } from './dongleText';
import { REFRESH_MS, useFastScan } from './live';
import { NoNodeOnline, Searching } from './NothingFound';

/** Both lists stay live: polled while the tab is visible, with the user's nodes kept scanning fast. */
export function DonglesPage() {
  usePageTitle('Dongles');
  const now = useNow();
  const list = usePolled((signal) => donglesApi.list(signal), REFRESH_MS);
  const scan = useFastScan();
  const dongles = useMemo(() => (list.data ? sortDongles(list.data.dongles) : null), [list.data]);
  const nodesOnline = scan.data?.nodes ?? null;
  const failure = list.error ?? scan.error;

  const sectionProps = { loadFailed: list.error !== null, now };
  let nothingFound = (
    <p className="empty" role="status">
      Loading…
    </p>
  );
  if (nodesOnline === 0) nothingFound = <NoNodeOnline />;
  else if (nodesOnline !== null || scan.error) nothingFound = <Searching />;

  return (
    <>
      <div className="page-header">
        <h1>Dongles</h1>
        <p className="muted">
          The OBD2/CAN dongles your nodes find on their network: whether they are online, where, and whose
          they are. This page keeps itself up to date.
        </p>
      </div>

      <ErrorAlert>{failure ? errorMessage(failure) : null}</ErrorAlert>
      <DongleSection
        {...sectionProps}
        id="your-dongles"
        title="Your dongles"
        dongles={dongles?.filter((dongle) => dongle.owned) ?? null}
        empty={<p className="empty">No dongles on your account yet. The dongles you pair show up here.</p>}
      />
      <DongleSection
        {...sectionProps}
        id="found-dongles"
        title="Found on your network"
        dongles={dongles?.filter((dongle) => !dongle.owned) ?? null}
        note={
          nodesOnline === 0 && dongles?.some((dongle) => !dongle.owned) ? (
            <>
              None of your nodes is online, so this list may be out of date.{' '}
              <Link to="/nodes">Go to Nodes</Link>
            </>
          ) : (
            'Dongles that your nodes hear on their local network and that nobody has claimed yet.'
          )
        }
        empty={nothingFound}
      />
    </>
  );
}
