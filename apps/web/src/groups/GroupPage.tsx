import { useState } from 'react';
import { useNavigate, useParams } from 'react-router';
import { agentsApi } from '../api/agents';
import { isApiError } from '../api/errors';
import { groupsApi } from '../api/groups';
import { errorMessage, SITUATIONS } from '../api/messages';
import { LiveConsole } from '../console/LiveConsole';
import { SendFrameForm } from '../console/SendFrameForm';
import { ErrorAlert } from '../ui/Alert';
import { BackLink } from '../ui/BackLink';
import { DetailFallback } from '../ui/DetailFallback';
import { usePageTitle } from '../ui/usePageTitle';
import { usePolled } from '../ui/usePolled';
import { useSubmission } from '../ui/useSubmission';
import { DeleteGroupDialog } from './DeleteGroupDialog';
import { GroupBuffer } from './GroupBuffer';
import { GroupSides } from './GroupSides';
import { offlineText } from './groupText';
import { REFRESH_MS } from './live';
import { ModeBadge } from './ModeBadge';

const BACK = { to: '/groups', label: 'All groups' };
/** A bad id in the address reads like a group that no longer exists. */
const NOT_FOUND = { GROUP_NOT_FOUND: SITUATIONS.groupNotFound, VALIDATION_ERROR: SITUATIONS.groupNotFound };
const NODES_MS = 30_000;

const MODE_NOTES = {
  inactive: 'Not relaying. Activate the group to connect the CAN buses of its two dongles through Canopy.',
  active: 'Relaying: frames from each side go to the other.',
  degraded: 'Relaying, but a side is offline: its frames wait in the buffer and are sent once it is back.',
} as const;

/** /groups/:id; a new id starts from a clean page. */
export function GroupPage() {
  const { id = '' } = useParams();
  return <GroupView key={id} id={id} />;
}

/** One group: its mode and the way to change it, both sides, the buffer, and its live console. */
function GroupView({ id }: { id: string }) {
  const navigate = useNavigate();
  const [deleting, setDeleting] = useState(false);
  const action = useSubmission([]);
  const found = usePolled(
    (signal) => groupsApi.get(id, signal),
    (_data, error) =>
      isApiError(error, 'GROUP_NOT_FOUND') || isApiError(error, 'VALIDATION_ERROR') ? null : REFRESH_MS,
  );
  const nodes = usePolled((signal) => agentsApi.list(signal), NODES_MS);
  const group = found.data?.group ?? null;
  usePageTitle(group ? group.name : 'Group');

  const error = found.error ? errorMessage(found.error, NOT_FOUND) : null;
  if (!group) return <DetailFallback back={BACK} title="Group" error={error} />;

  const offline = offlineText(group);
  const change = (to: 'activate' | 'deactivate') =>
    action.run(async () => found.setData(await groupsApi[to](group.id)));

  return (
    <>
      <div className="page-header" data-group-id={group.id}>
        <BackLink to={BACK.to}>{BACK.label}</BackLink>
        <div className="title-row">
          <h1>{group.name}</h1>
          <ModeBadge mode={group.mode} />
          {offline && (
            <span className="status status-offline">
              <span className="status-dot" aria-hidden="true" />
              {offline}
            </span>
          )}
          <span className="title-action">
            {group.mode === 'inactive' ? (
              <button
                type="button"
                className="button button-small"
                disabled={action.busy}
                onClick={() => change('activate')}
              >
                Activate
              </button>
            ) : (
              <button
                type="button"
                className="button button-secondary button-small"
                disabled={action.busy}
                onClick={() => change('deactivate')}
              >
                Deactivate
              </button>
            )}{' '}
            <button
              type="button"
              className="button button-danger-outline button-small"
              disabled={action.busy}
              onClick={() => setDeleting(true)}
            >
              Delete
            </button>
          </span>
        </div>
        <p className="muted">{MODE_NOTES[group.mode]}</p>
      </div>
      <ErrorAlert>{error ?? action.formError}</ErrorAlert>

      <GroupSides group={group} nodes={nodes.data?.agents ?? null} />
      <GroupBuffer group={group} />

      <LiveConsole
        source={{ kind: 'group', id: group.id, a: group.a.dongle_id, b: group.b.dongle_id }}
        group={group}
        onReset={found.reload}
      >
        <SendFrameForm groupId={group.id} mode={group.mode} />
      </LiveConsole>

      {deleting && (
        <DeleteGroupDialog
          groupId={group.id}
          name={group.name}
          onCancel={() => setDeleting(false)}
          onDone={() => navigate(BACK.to, { replace: true })}
        />
      )}
    </>
  );
}
