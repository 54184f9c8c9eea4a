import { CAN_BITRATES, CanConfigRequest } from '@canopy/protocol';
import { describe, expect, it } from 'vitest';
import {
  ackMessage,
  DEFAULT_CAN_CONFIG,
  describeCanConfig,
  formatBitrate,
  formatPermille,
  LIMITS,
  toCanConfig,
  toDraft,
} from './canConfig';

const draft = toDraft(DEFAULT_CAN_CONFIG);

describe('formatBitrate', () => {
  it('uses kbit/s and Mbit/s without needless decimals', () => {
    expect(formatBitrate(500_000)).toBe('500 kbit/s');
    expect(formatBitrate(1_000_000)).toBe('1 Mbit/s');
    expect(formatBitrate(83_333)).toBe('83.3 kbit/s');
    expect(formatBitrate(10_000)).toBe('10 kbit/s');
    expect(formatBitrate(800)).toBe('800 bit/s');
  });

  it('gives every bitrate a dongle accepts a distinct label', () => {
    expect(new Set(CAN_BITRATES.map(formatBitrate)).size).toBe(CAN_BITRATES.length);
  });
});

describe('formatPermille', () => {
  it('shows per mille as a percentage', () => {
    expect(formatPermille(875)).toBe('87.5 %');
    expect(formatPermille(800)).toBe('80 %');
  });
});

describe('toCanConfig', () => {
  it('sends the spec’s example unchanged', () => {
    expect(toCanConfig(draft)).toEqual({ config: DEFAULT_CAN_CONFIG });
  });

  it('accepts what the server accepts at the edges of every range, and refuses one step beyond', () => {
    for (const [field, { min, max }] of Object.entries(LIMITS)) {
      for (const value of [min, max]) {
        const result = toCanConfig({ ...draft, [field]: String(value), use_raw: false });
        expect(result.errors, `${field}=${value}`).toBeUndefined();
        expect(CanConfigRequest.safeParse(result.config).success, `${field}=${value}`).toBe(true);
      }
      for (const value of [min - 1, max + 1]) {
        const config = { ...DEFAULT_CAN_CONFIG, [field]: value };
        expect(CanConfigRequest.safeParse(config).success, `${field}=${value}`).toBe(false);
        expect(toCanConfig({ ...draft, [field]: String(value) }).errors).toHaveProperty([field]);
      }
    }
  });

  it('says which fields are wrong and how', () => {
    const { errors } = toCanConfig({ ...draft, bitrate: '123456', sample_point_permille: '87.5', tseg1: '' });
    expect(errors).toEqual({
      bitrate: 'Choose one of the listed bitrates.',
      sample_point_permille: 'Sample point must be a whole number from 500 to 950.',
      tseg1: 'TSEG1 must be a whole number from 1 to 16.',
    });
  });

  it('keeps SJW within TSEG2 only when raw timing is used, like the server', () => {
    const wide = { ...draft, sjw: '4', tseg2: '2' };
    expect(toCanConfig(wide).errors).toBeUndefined();
    expect(toCanConfig({ ...wide, use_raw: true }).errors).toEqual({
      sjw: 'SJW must not be larger than TSEG2.',
    });
    expect(
      CanConfigRequest.safeParse({ ...DEFAULT_CAN_CONFIG, sjw: 4, tseg2: 2, use_raw: true }).success,
    ).toBe(false);
  });
});

describe('describeCanConfig', () => {
  it('reads bitrate, sample point and mode', () => {
    expect(describeCanConfig(DEFAULT_CAN_CONFIG)).toBe('500 kbit/s, 87.5 %, normal');
    expect(describeCanConfig({ ...DEFAULT_CAN_CONFIG, bitrate: 1_000_000, mode: 'listen_only' })).toBe(
      '1 Mbit/s, 87.5 %, listen only',
    );
  });

  it('adds raw timing and the flags that differ from the usual', () => {
    expect(
      describeCanConfig({ ...DEFAULT_CAN_CONFIG, use_raw: true, auto_retx: false, tx_pause: true }),
    ).toBe(
      '500 kbit/s, 87.5 %, normal, raw timing (prescaler 16, SJW 1, TSEG1 13, TSEG2 2), no automatic retransmission, transmission paused',
    );
  });
});

describe('ackMessage', () => {
  const time = (iso: string) => iso.slice(11, 19);
  const ack = { applied_at: '2030-01-01T15:31:10.000Z', effective: DEFAULT_CAN_CONFIG };

  it('says when the dongle applied it and what it runs', () => {
    expect(ackMessage({ ...ack, dongle_status: 'ok' }, time)).toEqual({
      applied: true,
      text: 'Applied at 15:31:10 — the dongle runs: 500 kbit/s, 87.5 %, normal',
    });
  });

  it('tells a rejected configuration from one the dongle failed to apply', () => {
    expect(ackMessage({ ...ack, dongle_status: 'invalid' }, time)).toEqual({
      applied: false,
      text: 'The dongle rejected this configuration. It still runs: 500 kbit/s, 87.5 %, normal',
    });
    expect(ackMessage({ ...ack, dongle_status: 'apply_failed' }, time).text).toMatch(
      /^The dongle could not apply it\. It still runs/,
    );
  });
});
