/**
 * Online or offline, in words as well as colour. The dot is drawn in CSS rather than as 🟢/🔴, which
 * show as empty boxes on systems without an emoji font.
 */
export function OnlineStatus({ online }: { online: boolean }) {
  return (
    <span className={online ? 'status status-online' : 'status status-offline'}>
      <span className="status-dot" aria-hidden="true" />
      {online ? 'Online' : 'Offline'}
    </span>
  );
}
