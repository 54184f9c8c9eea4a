import type { EngineReadings } from './engine';

/*
 * The virtual vehicle ECU: OBD-II service 01 over ISO-TP single frames (ISO 15765-4, 11-bit ids), without I/O.
 * Requests on 0x7DF (functional, to every ECU) or 0x7E0 (physical, to this one); answers from 0x7E8 as
 * [len, 0x41, pid, A, B, …] padded to 8 bytes with 0xAA. A physical request gets a negative response
 * (0x7F sid NRC) where a functional one gets silence, as real ECUs do.
 */

export const OBD_FUNCTIONAL_ID = 0x7df;
export const OBD_PHYSICAL_ID = 0x7e0;
export const OBD_RESPONSE_ID = 0x7e8;
export const ISO_TP_PADDING = 0xaa;
const SERVICE_CURRENT_DATA = 0x01;
const POSITIVE_OFFSET = 0x40;
const NEGATIVE_RESPONSE = 0x7f;
export const NRC = {
  serviceNotSupported: 0x11,
  subFunctionNotSupported: 0x12,
  incorrectLength: 0x13,
} as const;

type PidEncoder = (r: EngineReadings) => number[];

const byte = (value: number) => Math.min(255, Math.max(0, Math.round(value)));
const word = (value: number) => {
  const v = Math.min(0xffff, Math.max(0, Math.round(value)));
  return [v >> 8, v & 0xff];
};
const celsius = (c: number) => [byte(c + 40)];
const percent = (p: number) => [byte((p * 255) / 100)];

const DATA_PIDS: Record<number, PidEncoder> = {
  5: (r) => celsius(r.coolantC),
  12: (r) => word(r.rpm * 4),
  13: (r) => [byte(r.speedKmh)],
  15: (r) => celsius(r.intakeC),
  17: (r) => percent(r.throttlePct),
  31: (r) => word(r.runTimeS),
  47: (r) => percent(r.fuelPct),
  70: (r) => celsius(r.ambientC),
};
/** The "PIDs supported" PIDs: each answers for the 32 PIDs after it. */
const RANGE_PIDS = [0x00, 0x20, 0x40];

/** Every PID this ECU answers, in order. */
export const SUPPORTED_PIDS = [...RANGE_PIDS, ...Object.keys(DATA_PIDS).map(Number)].sort((a, b) => a - b);

/** The bitmask of PID `base`: bit 31 is PID base+1, …, bit 0 is PID base+32. */
export function supportedMask(base: number): number {
  let mask = 0;
  for (const pid of SUPPORTED_PIDS) {
    if (pid > base && pid <= base + 32) mask |= 1 << (32 - (pid - base));
  }
  return mask >>> 0;
}

/** A PID's data bytes (A, B, …), or undefined when this ECU does not support it. */
export function pidData(pid: number, readings: EngineReadings): number[] | undefined {
  if (RANGE_PIDS.includes(pid)) {
    const mask = supportedMask(pid);
    return [mask >>> 24, (mask >>> 16) & 0xff, (mask >>> 8) & 0xff, mask & 0xff];
  }
  return DATA_PIDS[pid]?.(readings);
}

export interface BusFrame {
  id: number;
  extended: boolean;
  data: Uint8Array;
}

/** The 8 data bytes the ECU sends from 0x7E8 in answer to `request`, or undefined when it stays silent. */
export function ecuAnswer(request: BusFrame, readings: EngineReadings): Uint8Array | undefined {
  if (request.extended || (request.id !== OBD_FUNCTIONAL_ID && request.id !== OBD_PHYSICAL_ID))
    return undefined;
  const physical = request.id === OBD_PHYSICAL_ID;
  const data = request.data;
  const pci = data[0];
  if (pci === undefined || pci >> 4 !== 0) return undefined; // only single frames
  const length = pci & 0x0f;
  if (length === 0 || length > data.length - 1) return undefined;
  const sid = data[1] as number;
  const negative = (nrc: number) => (physical ? pad([0x03, NEGATIVE_RESPONSE, sid, nrc]) : undefined);
  if (sid !== SERVICE_CURRENT_DATA) return negative(NRC.serviceNotSupported);
  if (length < 2) return negative(NRC.incorrectLength);
  const pid = data[2] as number;
  const bytes = pidData(pid, readings);
  if (bytes === undefined) return negative(NRC.subFunctionNotSupported);
  return pad([2 + bytes.length, SERVICE_CURRENT_DATA + POSITIVE_OFFSET, pid, ...bytes]);
}

function pad(bytes: number[]): Uint8Array {
  const out = new Uint8Array(8).fill(ISO_TP_PADDING);
  out.set(bytes);
  return out;
}
