/** The live console's SSE address (spec 002 §18), for EventSource: the session cookie goes with it. */
export function consoleUrl(kind: 'group' | 'dongle', id: string, lastEventId?: string): string {
  const path = `/api/v1/streams/${kind === 'group' ? 'groups' : 'dongles'}/${encodeURIComponent(id)}/console`;
  // A new EventSource cannot set Last-Event-ID; the server takes it from the query instead.
  return lastEventId ? `${path}?last_event_id=${encodeURIComponent(lastEventId)}` : path;
}
