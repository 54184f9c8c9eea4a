import type { GroupMode, GroupSideName } from '@canopy/protocol';
import { type FormEvent, useState } from 'react';
import { groupsApi } from '../api/groups';
import { SITUATIONS } from '../api/messages';
import { ErrorAlert, Notice } from '../ui/Alert';
import { Field } from '../ui/Field';
import { FieldShell } from '../ui/FieldShell';
import { useSubmission } from '../ui/useSubmission';
import { formatCanId, spacedHex } from './consoleText';
import { frameRequest } from './sendFrame';

interface SendFrameFormProps {
  groupId: string;
  mode: GroupMode;
}

/** Server field paths shown beside this form's fields. */
const FIELDS = { id: 'frames.0.id', data: 'frames.0.data' } as const;

/**
 * "Send a frame" (the owner's view of a group console): one CAN frame onto side A's or side B's bus, as if the
 * other side's dongle had read it; e.g. an OBD-II request, whose answer then shows in the console.
 */
export function SendFrameForm({ groupId, mode }: SendFrameFormProps) {
  const [to, setTo] = useState<GroupSideName>('a');
  const [id, setId] = useState('7DF');
  const [data, setData] = useState('02 01 0C');
  const [sent, setSent] = useState<string | null>(null);
  const { busy, formError, fields, run, reject } = useSubmission([FIELDS.id, FIELDS.data, 'to']);
  const inactive = mode === 'inactive';

  async function submit(event: FormEvent) {
    event.preventDefault();
    setSent(null);
    const draft = frameRequest({ to, id, data });
    if (!draft.ok) {
      const { id: idProblem, data: dataProblem } = draft.problems;
      reject({
        ...(idProblem ? { [FIELDS.id]: idProblem } : {}),
        ...(dataProblem ? { [FIELDS.data]: dataProblem } : {}),
      });
      return;
    }
    const frame = draft.request.frames[0];
    await run(
      async () => {
        await groupsApi.sendFrames(groupId, draft.request);
        if (frame) {
          setSent(
            `Sent ${formatCanId(frame.id, frame.extended)} ${spacedHex(frame.data) || '(no data)'} onto side ${to.toUpperCase()}’s bus.`,
          );
        }
      },
      { CONFLICT: SITUATIONS.groupInactiveSend },
    );
  }

  return (
    <form className="card console-send" onSubmit={submit} aria-labelledby="send-frame-title" noValidate>
      <h3 id="send-frame-title">Send a frame</h3>
      <p className="muted">
        Puts one CAN frame onto a side’s bus, as if the other side’s dongle had read it. Try an OBD-II
        request: 7DF with 02 01 0C asks for the engine speed, 02 01 0D for the vehicle speed.
      </p>
      <div className="console-send-fields">
        <FieldShell id="send-to" label="Send to" error={fields.to}>
          {(aria) => (
            <select
              {...aria}
              id="send-to"
              value={to}
              onChange={(event) => setTo(event.target.value as GroupSideName)}
            >
              <option value="a">Side A’s bus</option>
              <option value="b">Side B’s bus</option>
            </select>
          )}
        </FieldShell>
        <Field
          id="send-id"
          label="CAN id (hex)"
          className="input-mono"
          value={id}
          onChange={setId}
          error={fields[FIELDS.id]}
          autoComplete="off"
          spellCheck={false}
        />
        <Field
          id="send-data"
          label="Data (hex bytes)"
          className="input-mono"
          value={data}
          onChange={setData}
          error={fields[FIELDS.data]}
          hint="Up to 8 bytes"
          autoComplete="off"
          spellCheck={false}
        />
        <button type="submit" className="button" disabled={busy || inactive}>
          {busy ? 'Sending…' : 'Send'}
        </button>
      </div>
      {inactive && <p className="muted">{SITUATIONS.groupInactiveSend}</p>}
      <ErrorAlert>{formError}</ErrorAlert>
      <Notice>{sent}</Notice>
    </form>
  );
}
