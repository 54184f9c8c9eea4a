import dgram from 'node:dgram';
import {
  type CanFrame,
  CliAssembler,
  type CliResult,
  decodeRemp,
  encodeRemp,
  FLAG_AUTH_REJECTED,
  isAllowedCommand,
  type RempBody,
  type RempHeader,
  type RempMessage,
  type RempType,
} from '@canopy/remp';
import type { Logger } from 'pino';
import type { DongleTarget } from './registry';

/** REMP.md §3: requests time out after 5 s by default. */
export const REMP_TIMEOUT_MS = 5000;

/** A request got no (complete) answer in time. */
export class RempTimeoutError extends Error {
  readonly code = 'DONGLE_TIMEOUT';
  constructor(what: string, ms: number) {
    super(`no answer from the dongle to ${what} within ${ms} ms`);
    this.name = 'RempTimeoutError';
  }
}

/** Another request of the same type to the same dongle (or with the same corr_id) is still waiting. */
export class RempBusyError extends Error {
  readonly code = 'DONGLE_BUSY';
  constructor(type: RempType) {
    super(`a ${type} request to this dongle is already waiting`);
    this.name = 'RempBusyError';
  }
}

/** Bytes the kernel may hold for this socket: a dongle's bus traffic comes in bursts (up to ~9,000 frames/s). */
const RECV_BUFFER_BYTES = 4 * 1024 * 1024;

type Pending = {
  from: string;
  resolve: (message: RempMessage) => void;
  reject: (err: Error) => void;
  timer: NodeJS.Timeout;
  /** CLI answers come in chunks. */
  assembler?: CliAssembler;
  resolveCli?: (result: CommandResult) => void;
  /** A chunk carried FLAG_AUTH_REJECTED. */
  authRejected?: boolean;
};

/** A command's whole output, and whether the dongle rejected the token (FLAG_AUTH_REJECTED). */
export type CommandResult = CliResult & { authRejected: boolean };

/** CAN frames a dongle sends (its bus traffic), with the header they came in. */
export type FrameHandler = (from: DongleTarget, header: RempHeader, frame: CanFrame) => void;

/** What every request to a dongle carries in its header besides its body. */
export type RequestHeader = Pick<RempHeader, 'deviceId' | 'token'>;

/**
 * One long-lived UDP socket for REMP (dongles answer to the request's source port). Replies are matched by
 * type and corr_id (CAN config has none: by type and device_id, one at a time per dongle) and must come from
 * the address the request went to.
 */
export class RempClient {
  #socket: dgram.Socket | null = null;
  #seq = 0;
  #frameSendErrors = 0;
  readonly #pending = new Map<string, Pending>();

  constructor(
    private readonly options: {
      log: Logger;
      onFrame?: FrameHandler;
      onMalformed: (code: string, from: string) => void;
    },
  ) {}

  async open(): Promise<void> {
    const socket = dgram.createSocket('udp4');
    await new Promise<void>((resolve, reject) => {
      socket.once('error', reject);
      socket.bind(0, '0.0.0.0', () => {
        socket.off('error', reject);
        resolve();
      });
    });
    try {
      socket.setRecvBufferSize(RECV_BUFFER_BYTES); // the kernel caps it at net.core.rmem_max
    } catch (err) {
      this.options.log.debug({ err: (err as Error).message }, 'REMP socket: receive buffer left as it was');
    }
    socket.on('message', (data, rinfo) =>
      this.onDatagram(data, { address: rinfo.address, port: rinfo.port }),
    );
    socket.on('error', (err) => this.options.log.warn({ err: err.message }, 'REMP socket error'));
    this.#socket = socket;
  }

  get port(): number | null {
    return this.#socket?.address().port ?? null;
  }

  /** Sends one request and resolves with the dongle's answer (any reply of the same type and corr_id). */
  request(target: DongleTarget, message: RempMessage, timeoutMs = REMP_TIMEOUT_MS): Promise<RempMessage> {
    return new Promise((resolve, reject) => {
      const key = keyOf(message);
      if (this.#pending.has(key)) {
        reject(new RempBusyError(message.type));
        return;
      }
      const timer = setTimeout(() => {
        this.#pending.delete(key);
        reject(new RempTimeoutError(`${message.type} request`, timeoutMs));
      }, timeoutMs);
      this.#pending.set(key, { from: target.address, resolve, reject, timer });
      this.send(target, message).catch((err: Error) => {
        clearTimeout(timer);
        this.#pending.delete(key);
        reject(err);
      });
    });
  }

  /** Runs a CLI command (CMD_REQ) and resolves with its whole output, reassembled from the chunks. */
  command(
    target: DongleTarget,
    header: RequestHeader,
    corrId: string,
    command: string,
    timeoutMs = REMP_TIMEOUT_MS,
  ): Promise<CommandResult> {
    return new Promise((resolve, reject) => {
      // The cloud checks too; a node never sends a dongle anything outside the firmware's allowlist.
      if (!isAllowedCommand(command)) {
        reject(new Error(`"${command.slice(0, 80)}" is not a command dongles accept`));
        return;
      }
      const message = this.message(header, {
        type: 'cli',
        cli: { action: 'request', corrId, allowDangerous: false, command },
      });
      const key = keyOf(message);
      const timer = setTimeout(() => {
        this.#pending.delete(key);
        reject(new RempTimeoutError(`the command "${command}"`, timeoutMs));
      }, timeoutMs);
      this.#pending.set(key, {
        from: target.address,
        resolve: () => undefined,
        reject,
        timer,
        assembler: new CliAssembler(),
        resolveCli: resolve,
      });
      this.send(target, message).catch((err: Error) => {
        clearTimeout(timer);
        this.#pending.delete(key);
        reject(err);
      });
    });
  }

  /** A header for a message from this node: its own increasing seq and the time. */
  message(header: RequestHeader, body: RempBody): RempMessage {
    this.#seq = (this.#seq + 1) >>> 0;
    return {
      flags: 0,
      fwBuild: 0,
      seq: this.#seq,
      timestampUs: BigInt(Date.now()) * 1000n,
      ...header,
      ...body,
    };
  }

  send(target: DongleTarget, message: RempMessage): Promise<void> {
    const socket = this.#socket;
    if (!socket) return Promise.reject(new Error('the REMP socket is not open'));
    const datagram = encodeRemp(message);
    return new Promise((resolve, reject) => {
      socket.send(datagram, target.port, target.address, (err) => (err ? reject(err) : resolve()));
    });
  }

  /**
   * Writes one CAN frame (REMP type 0) to a dongle's bus, fire and forget: no answer comes, a frame with a
   * rejected token is dropped by the dongle. False when it could not be sent (the socket is closed, or the
   * frame cannot be encoded); a failure of the send itself is counted in `frameSendErrors`.
   */
  sendFrame(target: DongleTarget, header: RequestHeader, frame: CanFrame): boolean {
    const socket = this.#socket;
    if (!socket) return false;
    let datagram: Uint8Array;
    try {
      datagram = encodeRemp(this.message(header, { type: 'can_frame', frame }));
    } catch {
      this.#frameSendErrors++;
      return false;
    }
    socket.send(datagram, target.port, target.address, (err) => {
      if (err) this.#frameSendErrors++;
    });
    return true;
  }

  /** CAN frames whose send failed (sendFrame). */
  get frameSendErrors(): number {
    return this.#frameSendErrors;
  }

  close(): void {
    for (const [key, pending] of this.#pending) {
      clearTimeout(pending.timer);
      pending.reject(new Error('the bridge is stopping'));
      this.#pending.delete(key);
    }
    this.#socket?.close();
    this.#socket = null;
  }

  private onDatagram(data: Buffer, from: DongleTarget): void {
    const decoded = decodeRemp(data);
    if (!decoded.ok) {
      this.options.onMalformed(decoded.error.code, from.address);
      return;
    }
    const message = decoded.value;
    if (message.type === 'can_frame') {
      this.options.onFrame?.(from, message, message.frame);
      return;
    }
    const pending = this.#pending.get(keyOf(message));
    if (!pending || pending.from !== from.address) return; // late, or not from the dongle asked
    if (message.type === 'cli' && message.cli.action === 'response' && pending.assembler) {
      if (message.flags & FLAG_AUTH_REJECTED) pending.authRejected = true;
      const result = pending.assembler.add(message.cli);
      if (!result) return;
      clearTimeout(pending.timer);
      this.#pending.delete(keyOf(message));
      pending.resolveCli?.({ ...result, authRejected: pending.authRejected ?? false });
      return;
    }
    clearTimeout(pending.timer);
    this.#pending.delete(keyOf(message));
    pending.resolve(message);
  }
}

/** Requests and their replies share this key. */
function keyOf(message: RempMessage): string {
  const type: RempType = message.type;
  switch (message.type) {
    case 'pairing':
      return `${type}:${message.pairing.corrId}`;
    case 'cli':
      return `${type}:${message.cli.corrId}`;
    default:
      return `${type}:${message.deviceId}`;
  }
}
