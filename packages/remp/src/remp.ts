import {
  checkUint,
  copyBytes,
  deviceIdBytes,
  toHex,
  utf8Decode,
  utf8Encode,
  uuidBytes,
  uuidString,
} from './bytes';
import { type Decoded, fail, ok } from './result';

/*
 * REMP v1 over UDP (REMP.md §2): big-endian; a 31-byte header, then token[token_len], then the payload, which
 * runs to the end of the datagram.
 *
 * Where REMP.md leaves the bytes open, Canopy chose (docs/remp.md):
 * - header flags bit 0 (AUTH_REJECTED): set by a dongle on a reply to a message whose token it rejected;
 * - CLI response: flags bit 1 = more chunks follow (is_last is its negation), bit 2 = the chunk is stderr,
 *   and the reserved byte after flags = the chunk's index (0, 1, …) within its corr_id.
 */

export const REMP_VERSION = 1;
export const REMP_HEADER_LEN = 31;
export const MAX_TOKEN_LEN = 64;
/** The longest command line a CMD_REQ carries. */
export const MAX_COMMAND_BYTES = 1024;
/** Header flag: the dongle rejected the token of the message this replies to. */
export const FLAG_AUTH_REJECTED = 0x01;
/** A device_id of zeros: unknown (a pairing request before the agent knows the dongle). */
export const UNKNOWN_DEVICE_ID = '0000000000000000';

const MAGIC = [0x52, 0x45, 0x4d, 0x50]; // "REMP"
const TYPE = { can_frame: 0, can_config: 2, pairing: 3, cli: 4 } as const;
const TYPE_NAMES = new Map<number, RempType>(Object.entries(TYPE).map(([k, v]) => [v, k as RempType]));
export type RempType = keyof typeof TYPE;

// ---- type 0: CAN frame ----

export const CAN_FLAG_SIMULATED = 0x01;
export const CAN_FLAG_LOOPBACK = 0x02;
const CAN_EXTENDED_BIT = 0x80000000;
export const MAX_STANDARD_ID = 0x7ff;
export const MAX_EXTENDED_ID = 0x1fffffff;

export interface CanFrame {
  /** 11-bit (≤ 0x7FF) or, when `extended`, 29-bit (≤ 0x1FFFFFFF). */
  id: number;
  extended: boolean;
  /** bit 0 simulated, bit 1 loopback. */
  flags: number;
  /** 0–8 bytes (the DLC is its length). */
  data: Uint8Array;
}

// ---- type 2: CAN config ----

export const CAN_CONFIG_ACTIONS = ['get', 'set', 'response'] as const;
export const CAN_CONFIG_STATUSES = ['ok', 'invalid', 'apply_failed'] as const;
export const CAN_MODES = ['normal', 'listen_only', 'loopback', 'ext_loop'] as const;
export type CanMode = (typeof CAN_MODES)[number];

export interface CanConfigFlags {
  useRaw: boolean;
  autoRetx: boolean;
  txPause: boolean;
  protocolExc: boolean;
}

export interface CanConfig {
  bitrate: number;
  samplePointPermille: number;
  prescaler: number;
  sjw: number;
  tseg1: number;
  tseg2: number;
  mode: CanMode;
  flags: CanConfigFlags;
}

export interface CanConfigMessage {
  action: (typeof CAN_CONFIG_ACTIONS)[number];
  /** Meaningful on a response; 'ok' on requests. */
  status: (typeof CAN_CONFIG_STATUSES)[number];
  config: CanConfig;
}

// ---- type 3: pairing ----

export const PAIRING_STATUSES = ['ok', 'invalid_pin', 'cooldown', 'error'] as const;
export type PairingStatus = (typeof PAIRING_STATUSES)[number];
export const PIN_LENGTH = 6;
export const NONCE_LENGTH = 16;

export type PairingMessage =
  /** PAIRING_MODE_START (agent → dongle). */
  | { action: 'start'; corrId: string; seconds: number }
  /** PAIRING_SUBMIT (agent → dongle): the PIN the user typed, the nonce of the ANNOUNCE, the token to keep. */
  | {
      action: 'submit';
      corrId: string;
      seconds: number;
      pin: string;
      pairingNonce: Uint8Array;
      token: Uint8Array;
    }
  /** PAIRING_OK / PAIRING_FAIL (dongle → agent); after a successful start, the pairing nonce follows. */
  | { action: 'ack'; corrId: string; status: PairingStatus; seconds: number; pairingNonce?: Uint8Array };

const PAIRING_ACTION = { start: 1, submit: 2, ack: 3 } as const;

// ---- type 4: CLI ----

export const CLI_STATUSES = ['ok', 'denied', 'error', 'timeout'] as const;
export type CliStatus = (typeof CLI_STATUSES)[number];

export type CliMessage =
  | { action: 'request'; corrId: string; allowDangerous: boolean; command: string }
  | {
      action: 'response';
      corrId: string;
      status: CliStatus;
      /** The dongle cut the output at its cap. */
      truncated: boolean;
      /** More chunks of this corr_id follow (is_last = !more). */
      more: boolean;
      /** This chunk is stderr, not stdout. */
      stderr: boolean;
      /** The chunk's index within its corr_id, 0–255. */
      chunk: number;
      exitCode: number;
      output: Uint8Array;
    };

const CLI_FLAG_TRUNCATED = 0x01;
const CLI_FLAG_MORE = 0x02;
const CLI_FLAG_STDERR = 0x04;

// ---- the message ----

export interface RempHeader {
  /** Header flags (FLAG_AUTH_REJECTED). */
  flags: number;
  fwBuild: number;
  /** 16 lowercase hex characters; UNKNOWN_DEVICE_ID when unknown. */
  deviceId: string;
  seq: number;
  timestampUs: bigint;
  /** The dongle's token (32 bytes once paired; empty on pairing requests), at most 64 bytes. */
  token: Uint8Array;
}

export type RempBody =
  | { type: 'can_frame'; frame: CanFrame }
  | { type: 'can_config'; config: CanConfigMessage }
  | { type: 'pairing'; pairing: PairingMessage }
  | { type: 'cli'; cli: CliMessage };

export type RempMessage = RempHeader & RempBody;

/** Which codec a datagram is for, by its magic: REMP, discovery (OBD2), or neither. */
export function datagramKind(bytes: Uint8Array): 'remp' | 'discovery' | undefined {
  if (bytes.length < 4) return undefined;
  const magic = String.fromCharCode(
    bytes[0] as number,
    bytes[1] as number,
    bytes[2] as number,
    bytes[3] as number,
  );
  return magic === 'REMP' ? 'remp' : magic === 'OBD2' ? 'discovery' : undefined;
}

/** Encodes a REMP v1 datagram. Throws RangeError on input that no decoder would accept. */
export function encodeRemp(message: RempMessage): Uint8Array {
  checkUint(message.flags, 0xff, 'flags');
  checkUint(message.fwBuild, 0xffff, 'fwBuild');
  checkUint(message.seq, 0xffffffff, 'seq');
  if (message.timestampUs < 0n || message.timestampUs > 0xffffffffffffffffn) {
    throw new RangeError('timestampUs must fit in 64 bits');
  }
  if (message.token.length > MAX_TOKEN_LEN)
    throw new RangeError(`the token is longer than ${MAX_TOKEN_LEN} bytes`);
  const payload = encodeBody(message);
  const out = new Uint8Array(REMP_HEADER_LEN + message.token.length + payload.length);
  const view = new DataView(out.buffer);
  out.set(MAGIC, 0);
  out[4] = REMP_VERSION;
  out[5] = TYPE[message.type];
  out[6] = message.flags;
  out[7] = 0;
  out[8] = message.token.length;
  view.setUint16(9, message.fwBuild);
  out.set(deviceIdBytes(message.deviceId), 11);
  view.setUint32(19, message.seq);
  view.setBigUint64(23, message.timestampUs);
  out.set(message.token, REMP_HEADER_LEN);
  out.set(payload, REMP_HEADER_LEN + message.token.length);
  return out;
}

function encodeBody(message: RempBody): Uint8Array {
  switch (message.type) {
    case 'can_frame':
      return encodeCanFrame(message.frame);
    case 'can_config':
      return encodeCanConfig(message.config);
    case 'pairing':
      return encodePairing(message.pairing);
    case 'cli':
      return encodeCli(message.cli);
  }
}

function encodeCanFrame(frame: CanFrame): Uint8Array {
  checkUint(frame.id, frame.extended ? MAX_EXTENDED_ID : MAX_STANDARD_ID, 'CAN id');
  checkUint(frame.flags, 0xff, 'CAN flags');
  if (frame.data.length > 8) throw new RangeError('a CAN frame carries at most 8 bytes');
  const out = new Uint8Array(8 + frame.data.length);
  const view = new DataView(out.buffer);
  view.setUint32(0, (frame.extended ? CAN_EXTENDED_BIT | frame.id : frame.id) >>> 0);
  out[4] = frame.flags;
  out[5] = frame.data.length;
  out.set(frame.data, 8);
  return out;
}

function encodeCanConfig(message: CanConfigMessage): Uint8Array {
  const c = message.config;
  checkUint(c.bitrate, 0xffffffff, 'bitrate');
  checkUint(c.samplePointPermille, 0xffff, 'samplePointPermille');
  checkUint(c.prescaler, 0xffff, 'prescaler');
  checkUint(c.sjw, 0xff, 'sjw');
  checkUint(c.tseg1, 0xff, 'tseg1');
  checkUint(c.tseg2, 0xff, 'tseg2');
  const out = new Uint8Array(16);
  const view = new DataView(out.buffer);
  out[0] = indexOf(CAN_CONFIG_ACTIONS, message.action, 'action');
  out[1] = indexOf(CAN_CONFIG_STATUSES, message.status, 'status');
  view.setUint32(2, c.bitrate);
  view.setUint16(6, c.samplePointPermille);
  view.setUint16(8, c.prescaler);
  out[10] = c.sjw;
  out[11] = c.tseg1;
  out[12] = c.tseg2;
  out[13] = indexOf(CAN_MODES, c.mode, 'mode');
  out[14] =
    (c.flags.useRaw ? 1 : 0) |
    (c.flags.autoRetx ? 2 : 0) |
    (c.flags.txPause ? 4 : 0) |
    (c.flags.protocolExc ? 8 : 0);
  return out;
}

function encodePairing(message: PairingMessage): Uint8Array {
  checkUint(message.seconds, 0xffff, 'seconds');
  let rest: Uint8Array = new Uint8Array(0);
  let status = 0;
  if (message.action === 'submit') {
    if (!/^[0-9]{6}$/.test(message.pin)) throw new RangeError('pin must be 6 ASCII digits');
    if (message.pairingNonce.length !== NONCE_LENGTH) throw new RangeError('pairingNonce must be 16 bytes');
    if (message.token.length > MAX_TOKEN_LEN)
      throw new RangeError(`the token is longer than ${MAX_TOKEN_LEN} bytes`);
    rest = new Uint8Array(PIN_LENGTH + NONCE_LENGTH + 1 + message.token.length);
    rest.set(utf8Encode(message.pin), 0);
    rest.set(message.pairingNonce, PIN_LENGTH);
    rest[PIN_LENGTH + NONCE_LENGTH] = message.token.length;
    rest.set(message.token, PIN_LENGTH + NONCE_LENGTH + 1);
  } else if (message.action === 'ack') {
    status = indexOf(PAIRING_STATUSES, message.status, 'status');
    if (message.pairingNonce !== undefined) {
      if (message.pairingNonce.length !== NONCE_LENGTH) throw new RangeError('pairingNonce must be 16 bytes');
      rest = message.pairingNonce;
    }
  }
  const out = new Uint8Array(20 + rest.length);
  const view = new DataView(out.buffer);
  out[0] = PAIRING_ACTION[message.action];
  out[1] = status;
  view.setUint16(2, message.seconds);
  out.set(uuidBytes(message.corrId), 4);
  out.set(rest, 20);
  return out;
}

function encodeCli(message: CliMessage): Uint8Array {
  if (message.action === 'request') {
    // A lone surrogate would go out as U+FFFD: not the command that was asked for.
    if (/\p{Cs}/u.test(message.command)) throw new RangeError('the command has a lone surrogate');
    const command = utf8Encode(message.command);
    if (command.length > MAX_COMMAND_BYTES)
      throw new RangeError(`the command is longer than ${MAX_COMMAND_BYTES} bytes`);
    const out = new Uint8Array(22 + command.length);
    const view = new DataView(out.buffer);
    out[0] = 1;
    out[1] = message.allowDangerous ? 1 : 0;
    out.set(uuidBytes(message.corrId), 4);
    view.setUint16(20, command.length);
    out.set(command, 22);
    return out;
  }
  checkUint(message.chunk, 0xff, 'chunk');
  checkUint(message.exitCode, 0xffff, 'exitCode');
  checkUint(message.output.length, 0xffff, 'output length');
  const out = new Uint8Array(24 + message.output.length);
  const view = new DataView(out.buffer);
  out[0] = 2;
  out[1] = indexOf(CLI_STATUSES, message.status, 'status');
  out[2] =
    (message.truncated ? CLI_FLAG_TRUNCATED : 0) |
    (message.more ? CLI_FLAG_MORE : 0) |
    (message.stderr ? CLI_FLAG_STDERR : 0);
  out[3] = message.chunk;
  out.set(uuidBytes(message.corrId), 4);
  view.setUint16(20, message.exitCode);
  view.setUint16(22, message.output.length);
  out.set(message.output, 24);
  return out;
}

function indexOf<T extends string>(names: readonly T[], value: T, field: string): number {
  const index = names.indexOf(value);
  if (index < 0) throw new RangeError(`${field} must be one of ${names.join(', ')}`);
  return index;
}

// ---- decoding ----

/** Decodes one REMP v1 datagram; a typed error for anything malformed, never an exception. */
export function decodeRemp(bytes: Uint8Array): Decoded<RempMessage> {
  if (bytes.length < 4) return fail('TRUNCATED', 'a REMP header needs 31 bytes', { length: bytes.length });
  for (let i = 0; i < MAGIC.length; i++) {
    if (bytes[i] !== MAGIC[i]) {
      return fail('BAD_MAGIC', 'not a REMP datagram (magic is not REMP)', {
        magic: toHex(bytes.subarray(0, 4)),
      });
    }
  }
  if (bytes.length < REMP_HEADER_LEN) {
    return fail('TRUNCATED', 'a REMP header needs 31 bytes', { length: bytes.length });
  }
  const version = bytes[4] as number;
  if (version !== REMP_VERSION) return fail('UNKNOWN_PROTO', `unknown REMP version ${version}`, { version });
  const typeCode = bytes[5] as number;
  const type = TYPE_NAMES.get(typeCode);
  if (type === undefined) return fail('UNKNOWN_TYPE', `unknown REMP type ${typeCode}`, { type: typeCode });
  const tokenLen = bytes[8] as number;
  if (tokenLen > MAX_TOKEN_LEN) {
    return fail('FIELD_TOO_LARGE', `token_len ${tokenLen} is over ${MAX_TOKEN_LEN}`, { token_len: tokenLen });
  }
  if (REMP_HEADER_LEN + tokenLen > bytes.length) {
    return fail('LENGTH_OVERRUN', 'the token runs past the datagram', {
      token_len: tokenLen,
      length: bytes.length,
    });
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const header: RempHeader = {
    flags: bytes[6] as number,
    fwBuild: view.getUint16(9),
    deviceId: toHex(bytes.subarray(11, 19)),
    seq: view.getUint32(19),
    timestampUs: view.getBigUint64(23),
    token: copyBytes(bytes, REMP_HEADER_LEN, REMP_HEADER_LEN + tokenLen),
  };
  const payload = bytes.subarray(REMP_HEADER_LEN + tokenLen);
  const body = decodeBody(type, payload);
  if (!body.ok) return body;
  return ok({ ...header, ...body.value } as RempMessage);
}

function decodeBody(type: RempType, payload: Uint8Array): Decoded<RempBody> {
  const view = new DataView(payload.buffer, payload.byteOffset, payload.byteLength);
  switch (type) {
    case 'can_frame': {
      const frame = decodeCanFrame(payload, view);
      return frame.ok ? ok({ type, frame: frame.value }) : frame;
    }
    case 'can_config': {
      const config = decodeCanConfig(payload, view);
      return config.ok ? ok({ type, config: config.value }) : config;
    }
    case 'pairing': {
      const pairing = decodePairing(payload, view);
      return pairing.ok ? ok({ type, pairing: pairing.value }) : pairing;
    }
    case 'cli': {
      const cli = decodeCli(payload, view);
      return cli.ok ? ok({ type, cli: cli.value }) : cli;
    }
  }
}

function decodeCanFrame(payload: Uint8Array, view: DataView): Decoded<CanFrame> {
  if (payload.length < 8)
    return fail('TRUNCATED', 'a CAN frame needs 8 bytes before its data', { length: payload.length });
  const raw = view.getUint32(0);
  const extended = (raw & CAN_EXTENDED_BIT) !== 0;
  const id = (raw & ~CAN_EXTENDED_BIT) >>> 0;
  if (id > (extended ? MAX_EXTENDED_ID : MAX_STANDARD_ID)) {
    return fail(
      'BAD_FIELD',
      `CAN id 0x${id.toString(16)} is out of range for a ${extended ? '29' : '11'}-bit id`,
      { id },
    );
  }
  const dlc = payload[5] as number;
  if (dlc > 8) return fail('BAD_FIELD', `dlc ${dlc} is over 8`, { dlc });
  if (8 + dlc > payload.length) return fail('LENGTH_OVERRUN', 'the CAN data runs past the datagram', { dlc });
  return ok({ id, extended, flags: payload[4] as number, data: copyBytes(payload, 8, 8 + dlc) });
}

function decodeCanConfig(payload: Uint8Array, view: DataView): Decoded<CanConfigMessage> {
  if (payload.length < 16)
    return fail('TRUNCATED', 'a CAN config needs 16 bytes', { length: payload.length });
  const action = CAN_CONFIG_ACTIONS[payload[0] as number];
  if (action === undefined)
    return fail('BAD_FIELD', `unknown CAN config action ${payload[0]}`, { action: payload[0] as number });
  const status = CAN_CONFIG_STATUSES[payload[1] as number];
  if (status === undefined)
    return fail('BAD_FIELD', `unknown CAN config status ${payload[1]}`, { status: payload[1] as number });
  const mode = CAN_MODES[payload[13] as number];
  if (mode === undefined)
    return fail('BAD_FIELD', `unknown CAN mode ${payload[13]}`, { mode: payload[13] as number });
  const flags = payload[14] as number;
  return ok({
    action,
    status,
    config: {
      bitrate: view.getUint32(2),
      samplePointPermille: view.getUint16(6),
      prescaler: view.getUint16(8),
      sjw: payload[10] as number,
      tseg1: payload[11] as number,
      tseg2: payload[12] as number,
      mode,
      flags: {
        useRaw: (flags & 1) !== 0,
        autoRetx: (flags & 2) !== 0,
        txPause: (flags & 4) !== 0,
        protocolExc: (flags & 8) !== 0,
      },
    },
  });
}

function decodePairing(payload: Uint8Array, view: DataView): Decoded<PairingMessage> {
  if (payload.length < 20)
    return fail('TRUNCATED', 'a pairing message needs 20 bytes', { length: payload.length });
  const actionCode = payload[0] as number;
  const statusCode = payload[1] as number;
  const seconds = view.getUint16(2);
  const corrId = uuidString(payload.subarray(4, 20));
  if (actionCode === PAIRING_ACTION.start) return ok({ action: 'start', corrId, seconds });
  if (actionCode === PAIRING_ACTION.submit) {
    const tokenAt = 20 + PIN_LENGTH + NONCE_LENGTH;
    if (payload.length < tokenAt + 1) {
      return fail('TRUNCATED', 'a PAIRING_SUBMIT needs a PIN, a nonce and a token length', {
        length: payload.length,
      });
    }
    const pinBytes = payload.subarray(20, 20 + PIN_LENGTH);
    const notDigit = pinBytes.findIndex((b) => b < 0x30 || b > 0x39);
    if (notDigit >= 0) {
      // The offending byte, not the PIN: the rest of it may be the user's real PIN.
      return fail('BAD_FIELD', 'the PIN is not 6 ASCII digits', {
        pin_offset: notDigit,
        byte: pinBytes[notDigit] as number,
      });
    }
    const pin = String.fromCharCode(...pinBytes);
    const tokenLen = payload[tokenAt] as number;
    if (tokenLen > MAX_TOKEN_LEN) {
      return fail('FIELD_TOO_LARGE', `token_len ${tokenLen} is over ${MAX_TOKEN_LEN}`, {
        token_len: tokenLen,
      });
    }
    if (tokenAt + 1 + tokenLen > payload.length) {
      return fail('LENGTH_OVERRUN', 'the pairing token runs past the datagram', { token_len: tokenLen });
    }
    return ok({
      action: 'submit',
      corrId,
      seconds,
      pin,
      pairingNonce: copyBytes(payload, 20 + PIN_LENGTH, tokenAt),
      token: copyBytes(payload, tokenAt + 1, tokenAt + 1 + tokenLen),
    });
  }
  if (actionCode === PAIRING_ACTION.ack) {
    const status = PAIRING_STATUSES[statusCode];
    if (status === undefined)
      return fail('BAD_FIELD', `unknown pairing status ${statusCode}`, { status: statusCode });
    if (payload.length > 20 && payload.length < 20 + NONCE_LENGTH) {
      return fail('TRUNCATED', 'the pairing nonce of an ACK is cut short', { length: payload.length });
    }
    return ok(
      payload.length >= 20 + NONCE_LENGTH
        ? { action: 'ack', corrId, status, seconds, pairingNonce: copyBytes(payload, 20, 20 + NONCE_LENGTH) }
        : { action: 'ack', corrId, status, seconds },
    );
  }
  return fail('BAD_FIELD', `unknown pairing action ${actionCode}`, { action: actionCode });
}

function decodeCli(payload: Uint8Array, view: DataView): Decoded<CliMessage> {
  if (payload.length < 22)
    return fail('TRUNCATED', 'a CLI message needs 22 bytes', { length: payload.length });
  const action = payload[0] as number;
  const corrId = uuidString(payload.subarray(4, 20));
  if (action === 1) {
    const cmdLen = view.getUint16(20);
    if (cmdLen > MAX_COMMAND_BYTES) {
      return fail('FIELD_TOO_LARGE', `cmd_len ${cmdLen} is over ${MAX_COMMAND_BYTES}`, { cmd_len: cmdLen });
    }
    if (22 + cmdLen > payload.length)
      return fail('LENGTH_OVERRUN', 'the command runs past the datagram', { cmd_len: cmdLen });
    const command = utf8Decode(payload.subarray(22, 22 + cmdLen));
    if (command === undefined) return fail('BAD_FIELD', 'the command is not UTF-8', { cmd_len: cmdLen });
    return ok({ action: 'request', corrId, allowDangerous: ((payload[1] as number) & 1) !== 0, command });
  }
  if (action === 2) {
    if (payload.length < 24)
      return fail('TRUNCATED', 'a CLI response needs 24 bytes', { length: payload.length });
    const status = CLI_STATUSES[payload[1] as number];
    if (status === undefined)
      return fail('BAD_FIELD', `unknown CLI status ${payload[1]}`, { status: payload[1] as number });
    const flags = payload[2] as number;
    const outLen = view.getUint16(22);
    if (24 + outLen > payload.length)
      return fail('LENGTH_OVERRUN', 'the output runs past the datagram', { out_len: outLen });
    return ok({
      action: 'response',
      corrId,
      status,
      truncated: (flags & CLI_FLAG_TRUNCATED) !== 0,
      more: (flags & CLI_FLAG_MORE) !== 0,
      stderr: (flags & CLI_FLAG_STDERR) !== 0,
      chunk: payload[3] as number,
      exitCode: view.getUint16(20),
      output: copyBytes(payload, 24, 24 + outLen),
    });
  }
  return fail('BAD_FIELD', `unknown CLI action ${action}`, { action });
}
