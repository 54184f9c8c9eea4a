import { deviceIdBytes, toHex, utf8Decode } from './bytes';
import { crc32 } from './crc32';
import { type Decoded, fail, ok } from './result';

/** Discovery over UDP (REMP.md §1): little-endian, an 18-byte header (or the legacy 16-byte one), CRC-32. */
export const DISCOVERY_PORT = 50000;
export const DISCOVERY_PROTO = 0x01;
export const HEADER_LEN = 18;
export const LEGACY_HEADER_LEN = 16;
const MAGIC = [0x4f, 0x42, 0x44, 0x32]; // "OBD2"
const MSG_DISCOVER = 0x01;
const MSG_ANNOUNCE = 0x02;

const TLV = {
  deviceId: 0x01,
  fwBuild: 0x02,
  udpPort: 0x03,
  capabilities: 0x04,
  protoVer: 0x05,
  lanIp: 0x06,
  pairingState: 0x07,
  pairingNonce: 0x08,
  authFailures: 0x09,
} as const;

/** What a dongle says about itself. Only `deviceId` is required; unknown TLVs are skipped. */
export interface Announce {
  /** 8 bytes as 16 lowercase hex characters. */
  deviceId: string;
  fwBuild?: string;
  /** The REMP port (often 50000). */
  udpPort?: number;
  capabilities?: number;
  /** The REMP version. */
  protoVer?: number;
  /** Dotted IPv4. */
  lanIp?: string;
  /** 0 normal, 1 pairing mode. */
  pairingState?: number;
  /** 16 bytes, only in pairing mode. */
  pairingNonce?: Uint8Array;
  /**
   * Canopy's TLV 0x09 (6 bytes: ip[4], count u16 LE): the LAN address with the most rejected tokens in the
   * last 60 s and how many; absent when there were none. Firmware without it simply never sends it.
   */
  authFailures?: { ip: string; count: number };
}

export type DiscoveryMessage =
  | { type: 'discover'; seq: number; legacy: boolean }
  | { type: 'announce'; seq: number; legacy: boolean; announce: Announce };

/** Encodes a DISCOVER or ANNOUNCE (legacy: the 16-byte header, seq as u16). Throws on invalid input. */
export function encodeDiscovery(message: DiscoveryMessage): Uint8Array {
  const payload = message.type === 'announce' ? encodeTlvs(message.announce) : new Uint8Array(0);
  if (payload.length > 0xffff) throw new RangeError('the payload is larger than 65535 bytes');
  const headerLen = message.legacy ? LEGACY_HEADER_LEN : HEADER_LEN;
  const maxSeq = message.legacy ? 0xffff : 0xffffffff;
  if (!Number.isInteger(message.seq) || message.seq < 0 || message.seq > maxSeq) {
    throw new RangeError(`seq must be an integer from 0 to ${maxSeq}`);
  }
  const out = new Uint8Array(headerLen + payload.length);
  const view = new DataView(out.buffer);
  out.set(MAGIC, 0);
  out[4] = DISCOVERY_PROTO;
  out[5] = message.type === 'discover' ? MSG_DISCOVER : MSG_ANNOUNCE;
  out[6] = 0;
  out[7] = headerLen;
  view.setUint16(8, payload.length, true);
  if (message.legacy) view.setUint16(10, message.seq, true);
  else view.setUint32(10, message.seq, true);
  out.set(payload, headerLen);
  view.setUint32(headerLen - 4, crc32(out), true); // the CRC field is still zero here
  return out;
}

/** Decodes one discovery datagram; a typed error for anything malformed, never an exception. */
export function decodeDiscovery(bytes: Uint8Array): Decoded<DiscoveryMessage> {
  if (bytes.length < LEGACY_HEADER_LEN) {
    return fail('TRUNCATED', `a discovery header needs ${LEGACY_HEADER_LEN} bytes`, { length: bytes.length });
  }
  for (let i = 0; i < MAGIC.length; i++) {
    if (bytes[i] !== MAGIC[i]) return fail('BAD_MAGIC', 'not a discovery datagram (magic is not OBD2)');
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const proto = bytes[4] as number;
  if (proto !== DISCOVERY_PROTO) return fail('UNKNOWN_PROTO', `unknown discovery proto ${proto}`, { proto });
  const headerLen = bytes[7] as number;
  if (headerLen !== HEADER_LEN && headerLen !== LEGACY_HEADER_LEN) {
    return fail('BAD_FIELD', `header_len ${headerLen} is neither 18 nor 16`, { header_len: headerLen });
  }
  if (bytes.length < headerLen) {
    return fail('TRUNCATED', `the header says ${headerLen} bytes`, { length: bytes.length });
  }
  const payloadLen = view.getUint16(8, true);
  if (headerLen + payloadLen > bytes.length) {
    return fail('LENGTH_OVERRUN', 'payload_len runs past the datagram', {
      payload_len: payloadLen,
      length: bytes.length,
    });
  }
  const legacy = headerLen === LEGACY_HEADER_LEN;
  const seq = legacy ? view.getUint16(10, true) : view.getUint32(10, true);
  const stated = view.getUint32(headerLen - 4, true);
  const header = bytes.slice(0, headerLen);
  header.fill(0, headerLen - 4, headerLen);
  const payload = bytes.subarray(headerLen, headerLen + payloadLen);
  const computed = crc32(header, payload);
  if (computed !== stated) {
    return fail('BAD_CRC', 'the CRC-32 does not match', { stated, computed });
  }
  const msgType = bytes[5] as number;
  if (msgType === MSG_DISCOVER) return ok({ type: 'discover', seq, legacy });
  if (msgType !== MSG_ANNOUNCE)
    return fail('UNKNOWN_TYPE', `unknown discovery msg_type ${msgType}`, { msg_type: msgType });
  const announce = decodeTlvs(payload);
  if (!announce.ok) return announce;
  return ok({ type: 'announce', seq, legacy, announce: announce.value });
}

function decodeTlvs(payload: Uint8Array): Decoded<Announce> {
  const view = new DataView(payload.buffer, payload.byteOffset, payload.byteLength);
  const fields: Partial<Announce> = {};
  let at = 0;
  while (at < payload.length) {
    if (at + 2 > payload.length)
      return fail('LENGTH_OVERRUN', 'a TLV header runs past the payload', { offset: at });
    const type = payload[at] as number;
    const len = payload[at + 1] as number;
    const start = at + 2;
    if (start + len > payload.length) {
      return fail('LENGTH_OVERRUN', `TLV 0x${type.toString(16)} runs past the payload`, {
        type,
        len,
        offset: at,
      });
    }
    const value = payload.subarray(start, start + len);
    const want = (n: number): RempFieldCheck => (len === n ? null : { type, len, want: n });
    let bad: RempFieldCheck = null;
    switch (type) {
      case TLV.deviceId:
        bad = want(8);
        if (!bad) fields.deviceId = toHex(value);
        break;
      case TLV.fwBuild:
        {
          const fwBuild = utf8Decode(value);
          if (fwBuild === undefined) return fail('BAD_FIELD', 'fw_build is not UTF-8', { type });
          fields.fwBuild = fwBuild;
        }
        break;
      case TLV.udpPort:
        bad = want(2);
        if (!bad) fields.udpPort = view.getUint16(start, true);
        break;
      case TLV.capabilities:
        bad = want(4);
        if (!bad) fields.capabilities = view.getUint32(start, true);
        break;
      case TLV.protoVer:
        bad = want(2);
        if (!bad) fields.protoVer = view.getUint16(start, true);
        break;
      case TLV.lanIp:
        bad = want(4);
        if (!bad) fields.lanIp = Array.from(value).join('.');
        break;
      case TLV.pairingState:
        bad = want(1);
        if (!bad) fields.pairingState = value[0] as number;
        break;
      case TLV.pairingNonce:
        bad = want(16);
        if (!bad) fields.pairingNonce = value.slice();
        break;
      case TLV.authFailures:
        bad = want(6);
        if (!bad) {
          fields.authFailures = {
            ip: Array.from(value.subarray(0, 4)).join('.'),
            count: view.getUint16(start + 4, true),
          };
        }
        break;
      default:
        break; // unknown types are skipped
    }
    if (bad) {
      return fail('BAD_FIELD', `TLV 0x${type.toString(16)} has ${bad.len} bytes, not ${bad.want}`, bad);
    }
    at = start + len;
  }
  if (fields.deviceId === undefined) return fail('BAD_FIELD', 'an ANNOUNCE without a device_id');
  return ok(fields as Announce);
}

type RempFieldCheck = { type: number; len: number; want: number } | null;

function encodeTlvs(a: Announce): Uint8Array {
  const parts: number[] = [];
  const put = (type: number, value: Uint8Array) => {
    if (value.length > 255) throw new RangeError(`TLV 0x${type.toString(16)} is longer than 255 bytes`);
    parts.push(type, value.length, ...value);
  };
  const le = (n: number, size: 2 | 4) => {
    const b = new Uint8Array(size);
    const v = new DataView(b.buffer);
    if (size === 2) v.setUint16(0, n, true);
    else v.setUint32(0, n, true);
    return b;
  };
  put(TLV.deviceId, deviceIdBytes(a.deviceId));
  if (a.fwBuild !== undefined) put(TLV.fwBuild, new TextEncoder().encode(a.fwBuild));
  if (a.udpPort !== undefined) put(TLV.udpPort, le(a.udpPort, 2));
  if (a.capabilities !== undefined) put(TLV.capabilities, le(a.capabilities, 4));
  if (a.protoVer !== undefined) put(TLV.protoVer, le(a.protoVer, 2));
  if (a.lanIp !== undefined) put(TLV.lanIp, ipv4Bytes(a.lanIp, 'lanIp'));
  if (a.pairingState !== undefined) put(TLV.pairingState, Uint8Array.of(a.pairingState));
  if (a.pairingNonce !== undefined) {
    if (a.pairingNonce.length !== 16) throw new RangeError('pairingNonce must be 16 bytes');
    put(TLV.pairingNonce, a.pairingNonce);
  }
  if (a.authFailures !== undefined) {
    const { ip, count } = a.authFailures;
    if (!Number.isInteger(count) || count < 0) throw new RangeError('authFailures.count must be ≥ 0');
    const value = new Uint8Array(6);
    value.set(ipv4Bytes(ip, 'authFailures.ip'));
    new DataView(value.buffer).setUint16(4, Math.min(count, 0xffff), true);
    put(TLV.authFailures, value);
  }
  return Uint8Array.from(parts);
}

function ipv4Bytes(ip: string, what: string): Uint8Array {
  const octets = ip.split('.').map(Number);
  if (octets.length !== 4 || octets.some((o) => !Number.isInteger(o) || o < 0 || o > 255)) {
    throw new RangeError(`${what} must be a dotted IPv4 address`);
  }
  return Uint8Array.from(octets);
}
