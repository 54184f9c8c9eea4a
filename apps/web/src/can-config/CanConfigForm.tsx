import { CAN_BITRATES, type CanConfigResponse, CanMode } from '@canopy/protocol';
import { type FormEvent, useEffect, useState } from 'react';
import { donglesApi } from '../api/dongles';
import { ErrorAlert, Notice } from '../ui/Alert';
import { CheckField } from '../ui/CheckField';
import { Field } from '../ui/Field';
import { FieldShell } from '../ui/FieldShell';
import { formatTime } from '../ui/format';
import { useSubmission } from '../ui/useSubmission';
import {
  ackMessage,
  CAN_FIELDS,
  type CanConfigDraft,
  DEFAULT_CAN_CONFIG,
  formatBitrate,
  formatPermille,
  LIMITS,
  MODES,
  RAW_FIELDS,
  toCanConfig,
  toDraft,
} from './canConfig';

interface CanConfigFormProps {
  dongleId: string;
  /** Why it can't be applied now (the dongle is offline), or null. */
  blocker: string | null;
  /** The dongle's state may have changed (a refused token means it was reset): the page reloads it. */
  onChanged: () => void;
}

const range = (field: keyof typeof LIMITS) => `${LIMITS[field].min}–${LIMITS[field].max}`;

/**
 * The CAN configuration (spec 002 §14): applied explicitly, and the dongle's ACK shown as it came. The API has
 * no way to read the configuration back, so the form starts from the spec's example and then follows the ACKs.
 */
export function CanConfigForm({ dongleId, blocker, onChanged }: CanConfigFormProps) {
  const [draft, setDraft] = useState<CanConfigDraft>(() => toDraft(DEFAULT_CAN_CONFIG));
  const [ack, setAck] = useState<CanConfigResponse | null>(null);
  const [advanced, setAdvanced] = useState(false);
  const { busy, formError, fields, run, reject } = useSubmission(CAN_FIELDS);

  // A problem in the raw timing must not hide in a closed section.
  useEffect(() => {
    if (RAW_FIELDS.some((field) => fields[field])) setAdvanced(true);
  }, [fields]);

  const change = (patch: Partial<CanConfigDraft>) => setDraft((current) => ({ ...current, ...patch }));

  async function submit(event: FormEvent) {
    event.preventDefault();
    setAck(null);
    const { config, errors } = toCanConfig(draft);
    if (errors) {
      reject(errors);
      return;
    }
    const ok = await run(async () => {
      const answer = await donglesApi.applyCanConfig(dongleId, config);
      setAck(answer);
      if (answer.dongle_status === 'ok') setDraft(toDraft(answer.effective));
    });
    if (!ok) onChanged();
  }

  const permille = Number(draft.sample_point_permille);
  const samplePointHint = /^\d+$/.test(draft.sample_point_permille.trim())
    ? `${formatPermille(permille)} of the bit time; ${range('sample_point_permille')} ‰.`
    : `In per mille of the bit time; ${range('sample_point_permille')} ‰.`;
  const ackShown = ack ? ackMessage(ack, formatTime) : null;

  return (
    <section className="section" aria-labelledby="can-config-title">
      <h2 id="can-config-title">CAN configuration</h2>
      <p className="muted">
        Nothing changes on the dongle until you apply; it then answers with the configuration it runs.
      </p>
      <form className="card can-config" onSubmit={submit} aria-labelledby="can-config-title" noValidate>
        <div className="field-row">
          <FieldShell id="can-bitrate" label="Bitrate" error={fields.bitrate}>
            {(aria) => (
              <select
                {...aria}
                id="can-bitrate"
                value={draft.bitrate}
                onChange={(event) => change({ bitrate: event.target.value })}
              >
                {CAN_BITRATES.map((bitrate) => (
                  <option key={bitrate} value={String(bitrate)}>
                    {formatBitrate(bitrate)}
                  </option>
                ))}
              </select>
            )}
          </FieldShell>
          <Field
            id="can-sample-point"
            label="Sample point (‰)"
            value={draft.sample_point_permille}
            onChange={(value) => change({ sample_point_permille: value })}
            inputMode="numeric"
            hint={samplePointHint}
            error={fields.sample_point_permille}
          />
          <FieldShell
            id="can-mode"
            label="Mode"
            hint={MODES.find((m) => m.mode === draft.mode)?.hint}
            error={fields.mode}
          >
            {(aria) => (
              <select
                {...aria}
                id="can-mode"
                value={draft.mode}
                onChange={(event) => change({ mode: CanMode.parse(event.target.value) })}
              >
                {MODES.map(({ mode, label }) => (
                  <option key={mode} value={mode}>
                    {label}
                  </option>
                ))}
              </select>
            )}
          </FieldShell>
        </div>

        <fieldset className="check-group">
          <legend>Options</legend>
          <CheckField
            id="can-auto-retx"
            label="Automatic retransmission"
            hint="Sends a frame again when it loses arbitration or nobody acknowledges it."
            checked={draft.auto_retx}
            onChange={(checked) => change({ auto_retx: checked })}
          />
          <CheckField
            id="can-tx-pause"
            label="Pause transmission"
            hint="The dongle keeps receiving but sends nothing."
            checked={draft.tx_pause}
            onChange={(checked) => change({ tx_pause: checked })}
          />
          <CheckField
            id="can-protocol-exc"
            label="Protocol exceptions"
            hint="Reports protocol exception events instead of ignoring them."
            checked={draft.protocol_exc}
            onChange={(checked) => change({ protocol_exc: checked })}
          />
        </fieldset>

        <details
          className="can-advanced"
          open={advanced}
          onToggle={(event) => setAdvanced(event.currentTarget.open)}
        >
          <summary>Advanced: raw bit timing</summary>
          <CheckField
            id="can-use-raw"
            label="Use raw bit timing"
            hint="The dongle uses these values as they are instead of working them out from the bitrate and sample point."
            checked={draft.use_raw}
            onChange={(checked) => change({ use_raw: checked })}
          />
          <div className="field-row raw-timing">
            {RAW_FIELDS.map((key) => (
              <Field
                key={key}
                id={`can-${key}`}
                label={LIMITS[key].label}
                value={draft[key]}
                onChange={(value) => change({ [key]: value })}
                inputMode="numeric"
                hint={key === 'sjw' ? `${range(key)}, at most TSEG2.` : `${range(key)}.`}
                error={fields[key]}
              />
            ))}
          </div>
        </details>

        <ErrorAlert>{formError}</ErrorAlert>
        <div className="form-actions">
          <button type="submit" className="button" disabled={busy || blocker !== null}>
            {busy ? 'Applying…' : 'Apply configuration'}
          </button>
          {blocker && <span className="muted">{blocker}</span>}
        </div>
        {ackShown && (
          <div className="can-ack">
            {ackShown.applied ? <Notice>{ackShown.text}</Notice> : <ErrorAlert>{ackShown.text}</ErrorAlert>}
          </div>
        )}
      </form>
    </section>
  );
}
