import type { CanConfig } from '@canopy/remp';
import { describe, expect, it } from 'vitest';
import {
  applyCanConfig,
  BITRATES,
  CAN_CLOCK_HZ,
  canConfigProblems,
  DEFAULT_CAN_CONFIG,
  timingFor,
} from './can-config';

const base: CanConfig = DEFAULT_CAN_CONFIG;
const raw = (over: Partial<CanConfig>): CanConfig => ({
  ...base,
  prescaler: 10,
  sjw: 1,
  tseg1: 13,
  tseg2: 2,
  ...over,
  flags: { ...base.flags, useRaw: true },
});

describe('canConfigProblems', () => {
  it.each<[string, CanConfig, RegExp | undefined]>([
    ['the default', base, undefined],
    ['every allowed bitrate', { ...base, bitrate: 83333 }, undefined],
    ['a bitrate off the list', { ...base, bitrate: 400000 }, /bitrate 400000/],
    ['sample point 500', { ...base, samplePointPermille: 500 }, undefined],
    ['sample point 950', { ...base, samplePointPermille: 950 }, undefined],
    ['sample point 499', { ...base, samplePointPermille: 499 }, /sample point/],
    ['sample point 951', { ...base, samplePointPermille: 951 }, /sample point/],
    ['raw timing in range', raw({}), undefined],
    ['raw prescaler 0', raw({ prescaler: 0 }), /prescaler 0/],
    ['raw prescaler 1025', raw({ prescaler: 1025 }), /prescaler 1025/],
    ['raw prescaler 1024', raw({ prescaler: 1024 }), undefined],
    ['raw sjw 0', raw({ sjw: 0 }), /sjw 0/],
    ['raw sjw 5', raw({ sjw: 5, tseg2: 8 }), /sjw 5/],
    ['raw sjw above tseg2', raw({ sjw: 3, tseg2: 2 }), /sjw 3 is above tseg2 2/],
    ['raw tseg1 0', raw({ tseg1: 0 }), /tseg1 0/],
    ['raw tseg1 17', raw({ tseg1: 17 }), /tseg1 17/],
    ['raw tseg2 0', raw({ tseg2: 0, sjw: 0 }), /tseg2 0/],
    ['raw tseg2 9', raw({ tseg2: 9 }), /tseg2 9/],
    ['raw fields ignored without use_raw', { ...base, prescaler: 0, tseg1: 99 }, undefined],
  ])('%s', (_name, config, problem) => {
    const problems = canConfigProblems(config);
    if (problem === undefined) expect(problems).toEqual([]);
    else expect(problems.join('; ')).toMatch(problem);
  });

  it('accepts every mode', () => {
    for (const mode of ['normal', 'listen_only', 'loopback', 'ext_loop'] as const) {
      expect(canConfigProblems({ ...base, mode })).toEqual([]);
    }
  });
});

describe('applyCanConfig', () => {
  it('keeps the current configuration when the request is invalid', () => {
    const outcome = applyCanConfig(base, { ...base, bitrate: 1 }, false);
    expect(outcome).toMatchObject({ status: 'invalid', config: base });
  });

  it('answers apply_failed, unchanged, when told to fail', () => {
    expect(applyCanConfig(base, { ...base, bitrate: 250000 }, true)).toEqual({
      status: 'apply_failed',
      config: base,
    });
  });

  it('computes the bit timing of every bitrate from the 80 MHz clock', () => {
    for (const bitrate of BITRATES) {
      const outcome = applyCanConfig(base, { ...base, bitrate, samplePointPermille: 875 }, false);
      if (outcome.status !== 'ok') throw new Error(`${bitrate}: ${outcome.status}`);
      const c = outcome.config;
      const quanta = 1 + c.tseg1 + c.tseg2;
      expect(Math.abs(CAN_CLOCK_HZ / (c.prescaler * quanta) - bitrate)).toBeLessThan(1);
      expect(Math.abs(c.samplePointPermille - 875)).toBeLessThanOrEqual(25);
      expect(canConfigProblems({ ...c, flags: { ...c.flags, useRaw: true } })).toEqual([]);
    }
  });

  it('reaches 87.5 % exactly at 500 kbit/s and 1 Mbit/s', () => {
    expect(timingFor(500000, 875)).toEqual({ prescaler: 10, tseg1: 13, tseg2: 2, samplePointPermille: 875 });
    expect(timingFor(1000000, 875)).toEqual({ prescaler: 5, tseg1: 13, tseg2: 2, samplePointPermille: 875 });
  });

  it('applies raw timing as given', () => {
    const requested = raw({
      bitrate: 250000,
      prescaler: 20,
      tseg1: 12,
      tseg2: 3,
      sjw: 2,
      mode: 'listen_only',
    });
    expect(applyCanConfig(base, requested, false)).toEqual({ status: 'ok', config: requested });
  });
});
