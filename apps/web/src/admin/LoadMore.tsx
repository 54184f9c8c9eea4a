interface Pager {
  loading: boolean;
  error: string | null;
  hasMore: boolean;
  loadMore: () => void;
  retry: () => void;
}

/** The button under a paged table: load the next page, retry a failed one, or show progress. */
export function LoadMore({ list }: { list: Pager }) {
  if (list.error) {
    return (
      <div className="pager">
        <button type="button" className="button button-secondary" onClick={list.retry}>
          Try again
        </button>
      </div>
    );
  }
  if (list.loading) {
    return (
      <div className="pager muted" role="status">
        Loading…
      </div>
    );
  }
  if (!list.hasMore) return null;
  return (
    <div className="pager">
      <button type="button" className="button button-secondary" onClick={list.loadMore}>
        Load more
      </button>
    </div>
  );
}
