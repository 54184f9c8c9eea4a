import type { CanConfig } from '@canopy/remp';

/*
 * The dongle's CAN controller configuration (spec 002 §14, REMP.md type 2), without I/O. The simulated
 * controller is an ESP32-TWAI-like one: an 80 MHz clock, BRP 1–1024, TSEG1 1–16, TSEG2 1–8, SJW 1–4.
 */

export const BITRATES = [
  10000, 20000, 50000, 83333, 100000, 125000, 250000, 500000, 800000, 1000000,
] as const;
export const CAN_CLOCK_HZ = 80_000_000;
const LIMITS = { prescaler: [1, 1024], sjw: [1, 4], tseg1: [1, 16], tseg2: [1, 8] } as const;
const SAMPLE_POINT = [500, 950] as const;

export type ApplyOutcome =
  | { status: 'ok'; config: CanConfig }
  | { status: 'invalid'; config: CanConfig; problems: string[] }
  | { status: 'apply_failed'; config: CanConfig };

/** What is wrong with a requested configuration (empty when it can be applied). */
export function canConfigProblems(c: CanConfig): string[] {
  const problems: string[] = [];
  if (!(BITRATES as readonly number[]).includes(c.bitrate)) {
    problems.push(`bitrate ${c.bitrate} is not one of ${BITRATES.join(', ')}`);
  }
  if (c.samplePointPermille < SAMPLE_POINT[0] || c.samplePointPermille > SAMPLE_POINT[1]) {
    problems.push(`sample point ${c.samplePointPermille}‰ is outside ${SAMPLE_POINT[0]}–${SAMPLE_POINT[1]}‰`);
  }
  if (c.flags.useRaw) {
    for (const field of ['prescaler', 'sjw', 'tseg1', 'tseg2'] as const) {
      const [min, max] = LIMITS[field];
      if (c[field] < min || c[field] > max) problems.push(`${field} ${c[field]} is outside ${min}–${max}`);
    }
    if (c.sjw > c.tseg2) problems.push(`sjw ${c.sjw} is above tseg2 ${c.tseg2}`);
  } else if (problems.length === 0 && timingFor(c.bitrate, c.samplePointPermille) === undefined) {
    problems.push(`no bit timing gives ${c.bitrate} bit/s from a ${CAN_CLOCK_HZ / 1e6} MHz clock`);
  }
  return problems;
}

/**
 * Applies `requested` over `current`: invalid → unchanged; `failApply` (the control knob) → apply_failed,
 * unchanged; else the effective configuration: raw timing as given, or (use_raw off) the timing the
 * controller computes for the bitrate and sample point, with the sample point it actually reaches.
 */
export function applyCanConfig(current: CanConfig, requested: CanConfig, failApply: boolean): ApplyOutcome {
  const problems = canConfigProblems(requested);
  if (problems.length > 0) return { status: 'invalid', config: current, problems };
  if (failApply) return { status: 'apply_failed', config: current };
  return { status: 'ok', config: effective(requested) };
}

function effective(c: CanConfig): CanConfig {
  if (c.flags.useRaw) return { ...c, flags: { ...c.flags } };
  const timing = timingFor(c.bitrate, c.samplePointPermille);
  if (timing === undefined) throw new Error('effective() needs a validated configuration');
  const sjw = Math.min(Math.max(c.sjw, 1), LIMITS.sjw[1], timing.tseg2);
  return { ...c, ...timing, sjw, flags: { ...c.flags } };
}

interface Timing {
  prescaler: number;
  tseg1: number;
  tseg2: number;
  samplePointPermille: number;
}

/** The bit timing closest to the sample point (ties: more time quanta per bit), or undefined. */
export function timingFor(bitrate: number, samplePointPermille: number): Timing | undefined {
  const ticksPerBit = Math.round(CAN_CLOCK_HZ / bitrate);
  let best: (Timing & { error: number }) | undefined;
  for (let quanta = 1 + LIMITS.tseg1[1] + LIMITS.tseg2[1]; quanta >= 3; quanta--) {
    if (ticksPerBit % quanta !== 0) continue;
    const prescaler = ticksPerBit / quanta;
    if (prescaler < LIMITS.prescaler[0] || prescaler > LIMITS.prescaler[1]) continue;
    const tseg1 = Math.round((quanta * samplePointPermille) / 1000) - 1;
    const tseg2 = quanta - 1 - tseg1;
    if (
      tseg1 < LIMITS.tseg1[0] ||
      tseg1 > LIMITS.tseg1[1] ||
      tseg2 < LIMITS.tseg2[0] ||
      tseg2 > LIMITS.tseg2[1]
    ) {
      continue;
    }
    const reached = Math.round(((1 + tseg1) * 1000) / quanta);
    const error = Math.abs(reached - samplePointPermille);
    if (best === undefined || error < best.error) {
      best = { prescaler, tseg1, tseg2, samplePointPermille: reached, error };
    }
  }
  if (best === undefined) return undefined;
  const { error: _error, ...timing } = best;
  return timing;
}

/** What a dongle runs with out of the box: 500 kbit/s, 87.5 %, normal mode, automatic retransmission. */
export const DEFAULT_CAN_CONFIG: CanConfig = effective({
  bitrate: 500000,
  samplePointPermille: 875,
  prescaler: 0,
  sjw: 1,
  tseg1: 0,
  tseg2: 0,
  mode: 'normal',
  flags: { useRaw: false, autoRetx: true, txPause: false, protocolExc: false },
});

/** The lines of `can cfg show`. */
export function describeCanConfig(c: CanConfig): string {
  const flags = Object.entries({
    use_raw: c.flags.useRaw,
    auto_retx: c.flags.autoRetx,
    tx_pause: c.flags.txPause,
    protocol_exc: c.flags.protocolExc,
  })
    .filter(([, on]) => on)
    .map(([name]) => name);
  const quanta = 1 + c.tseg1 + c.tseg2;
  return [
    `bitrate:       ${c.bitrate} bit/s`,
    `sample_point:  ${(c.samplePointPermille / 10).toFixed(1)} %`,
    `timing:        prescaler ${c.prescaler}, sjw ${c.sjw}, tseg1 ${c.tseg1}, tseg2 ${c.tseg2} (${quanta} tq, ${c.flags.useRaw ? 'raw' : 'computed'}; clock ${CAN_CLOCK_HZ / 1e6} MHz)`,
    `mode:          ${c.mode}`,
    `flags:         ${flags.length > 0 ? flags.join(' ') : '-'}`,
  ].join('\n');
}
