/*
 * OBD-II service 01 (current data) in plain words, for the console's "decoded" column: answers from the ECU
 * ids 0x7E8–0x7EF (ISO 15765-4, 11-bit) as `[len, 0x41, pid, A, B…]`, and the requests on 0x7DF (to every
 * ECU) or 0x7E0–0x7E7 (to one) as `[len, 0x01, pid]`. The PIDs are those the Canopy simulator's ECU speaks.
 */

type Pid = { name: string; value?: (a: number, b: number) => string };

const count = new Intl.NumberFormat('en-US', { maximumFractionDigits: 1 });
const celsius = (a: number) => `${a - 40} °C`;
const percent = (a: number) => `${count.format((a * 100) / 255)} %`;

const PIDS: Record<number, Pid> = {
  0: { name: 'Supported PIDs 01–20' },
  5: { name: 'Coolant', value: celsius },
  12: { name: 'Engine speed', value: (a, b) => `${count.format((256 * a + b) / 4)} rpm` },
  13: { name: 'Vehicle speed', value: (a) => `${a} km/h` },
  15: { name: 'Intake air', value: celsius },
  17: { name: 'Throttle', value: percent },
  31: { name: 'Run time', value: (a, b) => `${count.format(256 * a + b)} s` },
  32: { name: 'Supported PIDs 21–40' },
  47: { name: 'Fuel level', value: percent },
  64: { name: 'Supported PIDs 41–60' },
  70: { name: 'Ambient air', value: celsius },
};

/** Bytes needed after the PID for each value (1 unless listed). */
const WIDE = new Set([0x0c, 0x1f]);
const RANGE = new Set([0x00, 0x20, 0x40]);

const FUNCTIONAL = 0x7df;
const SERVICE = 0x01;
const POSITIVE = 0x41;
const NEGATIVE = 0x7f;

/** The negative response codes the simulator's ECU gives (ISO 14229). */
const REFUSALS: Record<number, string> = {
  17: 'service not supported',
  18: 'PID not supported',
  19: 'wrong request length',
};

const hex2 = (n: number) => n.toString(16).toUpperCase().padStart(2, '0');

/** The payload's bytes from the console's hex ("02010C…"); null if it is not whole bytes of hex. */
export function hexBytes(data: string): number[] | null {
  if (data.length % 2 !== 0 || !/^[0-9a-fA-F]*$/.test(data)) return null;
  const out: number[] = [];
  for (let i = 0; i < data.length; i += 2) out.push(Number.parseInt(data.slice(i, i + 2), 16));
  return out;
}

/**
 * A short description of an OBD-II frame ("Engine speed 1,726 rpm", "Asks for vehicle speed"), or null for a
 * frame that is not service 01 on the OBD-II ids (or a PID this decoder does not know).
 */
export function obdHint(canId: number, data: string, extended = false): string | null {
  if (extended) return null;
  const bytes = hexBytes(data);
  if (!bytes || bytes.length < 2) return null;
  const [pci = 0, sid = 0, pid = -1] = bytes;
  // ISO-TP single frame: the high nibble is 0, the low one the length that follows.
  if (pci >> 4 !== 0) return null;
  const length = pci & 0x0f;
  if (length < 1 || length > bytes.length - 1) return null;

  if (canId >= 0x7e8 && canId <= 0x7ef) {
    if (sid === NEGATIVE && length >= 3) {
      const code = bytes[3] ?? 0;
      return `Refused: ${REFUSALS[code] ?? `code ${hex2(code)}`}`;
    }
    if (sid !== POSITIVE || length < 2) return null;
    const known = PIDS[pid];
    if (!known) return null;
    if (RANGE.has(pid))
      return length >= 6 ? `${known.name}: ${supported(pid, bytes.slice(3, 7)).length} supported` : null;
    const need = WIDE.has(pid) ? 2 : 1;
    if (length < 2 + need || !known.value) return null;
    return `${known.name} ${known.value(bytes[3] ?? 0, bytes[4] ?? 0)}`;
  }
  if (canId === FUNCTIONAL || (canId >= 0x7e0 && canId <= 0x7e7)) {
    if (sid !== SERVICE || length < 2) return null;
    const known = PIDS[pid];
    if (!known) return null;
    return `Asks for ${RANGE.has(pid) ? 'the supported PIDs' : known.name.toLowerCase()}`;
  }
  return null;
}

/** The PIDs a "supported PIDs" answer lists: bit 31 of the mask is PID base+1, bit 0 is base+32. */
export function supported(base: number, mask: number[]): number[] {
  const out: number[] = [];
  for (let i = 0; i < 32; i++) {
    const byte = mask[i >> 3] ?? 0;
    if (byte & (0x80 >> (i & 7))) out.push(base + i + 1);
  }
  return out;
}
