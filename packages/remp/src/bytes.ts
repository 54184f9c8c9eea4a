/** Small byte helpers shared by the codecs. */

export const toHex = (bytes: Uint8Array) =>
  Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('');

/** 16 lowercase hex characters (an 8-byte device id) → bytes; throws on anything else. */
export function deviceIdBytes(deviceId: string): Uint8Array {
  if (!/^[0-9a-f]{16}$/.test(deviceId)) throw new RangeError('deviceId must be 16 lowercase hex characters');
  return Uint8Array.from(deviceId.match(/../g) ?? [], (h) => Number.parseInt(h, 16));
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

/** A UUID in its usual lowercase form → its 16 bytes; throws on anything else. */
export function uuidBytes(uuid: string): Uint8Array {
  if (!UUID.test(uuid)) throw new RangeError('corrId must be a lowercase UUID');
  return Uint8Array.from(uuid.replaceAll('-', '').match(/../g) ?? [], (h) => Number.parseInt(h, 16));
}

/** 16 bytes → the UUID's usual form (any 16 bytes make one; the version bits are not checked). */
export function uuidString(bytes: Uint8Array): string {
  const h = toHex(bytes);
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
}

export const utf8Encode = (text: string) => new TextEncoder().encode(text);
// ignoreBOM: a leading U+FEFF is part of the text, not a marker to drop (the encoder writes it).
const strictUtf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

/** Strict UTF-8 decoding: undefined for bytes that are not UTF-8. */
export function utf8Decode(bytes: Uint8Array): string | undefined {
  try {
    return strictUtf8.decode(bytes);
  } catch {
    return undefined;
  }
}

/** A copy of bytes[start, end) as a plain Uint8Array (a Node Buffer's slice() would share its memory). */
export const copyBytes = (bytes: Uint8Array, start: number, end?: number) =>
  new Uint8Array(bytes.subarray(start, end));

export function checkUint(value: number, max: number, name: string): void {
  if (!Number.isInteger(value) || value < 0 || value > max) {
    throw new RangeError(`${name} must be an integer from 0 to ${max}`);
  }
}
