import { CAN_BITRATES, type CanConfig, type CanConfigResponse, type CanMode } from '@canopy/protocol';
import { SITUATIONS } from '../api/messages';

/** The spec's example (002 §17.3), and what the form shows before anything was applied. */
export const DEFAULT_CAN_CONFIG: CanConfig = {
  bitrate: 500_000,
  sample_point_permille: 875,
  mode: 'normal',
  use_raw: false,
  prescaler: 16,
  sjw: 1,
  tseg1: 13,
  tseg2: 2,
  auto_retx: true,
  tx_pause: false,
  protocol_exc: false,
};

/** The form as typed: numbers stay text until Apply, so a half-typed value is not rewritten. */
export type CanConfigDraft = Omit<CanConfig, NumberField | 'bitrate'> &
  Record<NumberField | 'bitrate', string>;

type NumberField = 'sample_point_permille' | 'prescaler' | 'sjw' | 'tseg1' | 'tseg2';

/** The server's limits (CanConfigRequest in @canopy/protocol; canConfig.test.ts checks they agree). */
export const LIMITS: Record<NumberField, { label: string; min: number; max: number }> = {
  sample_point_permille: { label: 'Sample point', min: 500, max: 950 },
  prescaler: { label: 'Prescaler', min: 1, max: 1024 },
  sjw: { label: 'SJW', min: 1, max: 4 },
  tseg1: { label: 'TSEG1', min: 1, max: 16 },
  tseg2: { label: 'TSEG2', min: 1, max: 8 },
};

/** Field keys as the server names them in VALIDATION_ERROR, so both kinds of error land on one field. */
export const CAN_FIELDS = ['bitrate', 'sample_point_permille', 'mode', 'prescaler', 'sjw', 'tseg1', 'tseg2'];
/** The fields of the "Advanced: raw bit timing" section, which opens when one of them has an error. */
export const RAW_FIELDS = ['prescaler', 'sjw', 'tseg1', 'tseg2'] as const;

export const MODES: { mode: CanMode; label: string; hint: string }[] = [
  { mode: 'normal', label: 'Normal', hint: 'Receives, acknowledges and sends frames on the bus.' },
  {
    mode: 'listen_only',
    label: 'Listen only',
    hint: 'Receives without acknowledging or sending anything: the bus never knows the dongle is there.',
  },
  {
    mode: 'loopback',
    label: 'Loopback',
    hint: 'Frames it sends come back inside the dongle; the bus sees none.',
  },
  {
    mode: 'ext_loop',
    label: 'External loopback',
    hint: 'Frames it sends go out on the bus and are received back, for testing the wiring.',
  },
];

export function toDraft(config: CanConfig): CanConfigDraft {
  return {
    ...config,
    bitrate: String(config.bitrate),
    sample_point_permille: String(config.sample_point_permille),
    prescaler: String(config.prescaler),
    sjw: String(config.sjw),
    tseg1: String(config.tseg1),
    tseg2: String(config.tseg2),
  };
}

type Result =
  | { config: CanConfig; errors?: undefined }
  | { config?: undefined; errors: Record<string, string> };

/** The request body for the draft, or what is wrong with it: the same checks the server makes. */
export function toCanConfig(draft: CanConfigDraft): Result {
  const errors: Record<string, string> = {};
  const bitrate = Number(draft.bitrate);
  if (!(CAN_BITRATES as readonly number[]).includes(bitrate)) errors.bitrate = SITUATIONS.bitrateUnknown;
  const numbers = {} as Record<NumberField, number>;
  for (const [field, { label, min, max }] of Object.entries(LIMITS) as [
    NumberField,
    (typeof LIMITS)[NumberField],
  ][]) {
    const text = draft[field].trim();
    const value = Number(text);
    if (!/^\d+$/.test(text) || value < min || value > max) {
      errors[field] = SITUATIONS.numberRange(label, min, max);
    }
    numbers[field] = value;
  }
  if (draft.use_raw && !errors.sjw && !errors.tseg2 && numbers.sjw > numbers.tseg2) {
    errors.sjw = SITUATIONS.sjwAboveTseg2;
  }
  if (Object.keys(errors).length > 0) return { errors };
  return { config: { ...draft, bitrate, ...numbers } };
}

/** "500 kbit/s", "1 Mbit/s", "83.3 kbit/s". */
export function formatBitrate(bitsPerSecond: number): string {
  const short = (n: number) => String(Number(n.toFixed(1)));
  if (bitsPerSecond >= 1_000_000) return `${short(bitsPerSecond / 1_000_000)} Mbit/s`;
  if (bitsPerSecond >= 1000) return `${short(bitsPerSecond / 1000)} kbit/s`;
  return `${bitsPerSecond} bit/s`;
}

/** 875 ‰ as "87.5 %". */
export function formatPermille(permille: number): string {
  return `${Number((permille / 10).toFixed(1))} %`;
}

/** What the dongle runs, in one line: "500 kbit/s, 87.5 %, normal", then what differs from the usual. */
export function describeCanConfig(config: CanConfig): string {
  const mode = MODES.find((m) => m.mode === config.mode)?.label.toLowerCase() ?? config.mode;
  const parts = [formatBitrate(config.bitrate), formatPermille(config.sample_point_permille), mode];
  if (config.use_raw) {
    parts.push(
      `raw timing (prescaler ${config.prescaler}, SJW ${config.sjw}, TSEG1 ${config.tseg1}, TSEG2 ${config.tseg2})`,
    );
  }
  if (!config.auto_retx) parts.push('no automatic retransmission');
  if (config.tx_pause) parts.push('transmission paused');
  if (config.protocol_exc) parts.push('protocol exceptions on');
  return parts.join(', ');
}

/** The dongle's ACK in words: when it applied the configuration and what it runs, or why it did not. */
export function ackMessage(
  ack: Pick<CanConfigResponse, 'dongle_status' | 'applied_at' | 'effective'>,
  formatTime: (iso: string) => string,
): { applied: boolean; text: string } {
  const runs = describeCanConfig(ack.effective);
  if (ack.dongle_status === 'ok') {
    const at = ack.applied_at ? ` at ${formatTime(ack.applied_at)}` : '';
    return { applied: true, text: `Applied${at} — the dongle runs: ${runs}` };
  }
  const why = ack.dongle_status === 'invalid' ? SITUATIONS.configRejected : SITUATIONS.configNotApplied;
  return { applied: false, text: `${why} It still runs: ${runs}` };
}
