import { randomBytes } from 'node:crypto';
import {
  type Announce,
  type CanConfig,
  type CliMessage,
  datagramKind,
  decodeDiscovery,
  decodeRemp,
  encodeDiscovery,
  encodeRemp,
  FLAG_AUTH_REJECTED,
  isAllowedCommand,
  type PairingMessage,
  REMP_VERSION,
  type RempBody,
  type RempMessage,
} from '@canopy/remp';
import { AuthFailureWindow, rejectionReply, tokenMatches } from './auth';
import { VirtualBus } from './bus';
import { applyCanConfig, DEFAULT_CAN_CONFIG } from './can-config';
import { runCli } from './cli-exec';
import type { Clock } from './clock';
import type { DiscoveryView, DongleView } from './commands';
import { type Counters, IdCounters, newCounters } from './counters';
import type { BusFrame } from './ecu';
import { fingerprint } from './identity';
import type { Log } from './log';
import { PairingMachine } from './pairing';
import { answerPairing } from './pairing-exchange';

/*
 * One simulated dongle: it answers REMP requests on its socket as firmware would (REMP.md §2, spec 002 §11,
 * §14, §16). No sockets here: datagrams come in through receive() and leave through deps.send.
 */

/**
 * ANNOUNCE capabilities (u32, Canopy's choice, docs/dongle-sim.md): bit 0 CAN frames over REMP, bit 1 CAN
 * config, bit 2 PIN pairing, bit 3 CLI console, bit 4 OBD-II ECU on the bus, bit 31 simulated.
 */
export const CAPABILITIES = {
  canFrames: 1 << 0,
  canConfig: 1 << 1,
  pairing: 1 << 2,
  cli: 1 << 3,
  obdEcu: 1 << 4,
  simulated: 2 ** 31,
} as const;
const SIM_CAPABILITIES = Object.values(CAPABILITIES).reduce((a, b) => a + b, 0);

export interface Peer {
  address: string;
  port: number;
}

export interface DongleIdentity {
  index: number;
  deviceId: string;
  fwBuild: string;
  fwBuildNumber: number;
  lanIp: string;
}

/** What a real dongle keeps in flash. */
export interface Persisted {
  secret: Uint8Array;
  token: Uint8Array | undefined;
  canConfig: CanConfig;
}

export interface DongleDeps {
  clock: Clock;
  log: Log;
  /** Sends a datagram; `onError` if the socket could not. */
  send(bytes: Uint8Array, to: Peer, onError: () => void): void;
  /** Called when the secret, the token or the CAN config changed (the state file). */
  persist(): void;
  discovery(): DiscoveryView;
  pairingMs: number;
  cooldownMs: number;
  cliTimeoutMs: number;
  newPin?: () => string;
  newNonce?: () => Uint8Array;
}

export class Dongle {
  readonly identity: DongleIdentity;
  readonly pairing: PairingMachine;
  readonly bus: VirtualBus;
  readonly counters: Counters = newCounters();
  readonly knobs = { cliDelayMs: 0, padBytes: 0, failNextApply: false };
  readonly startedAt: number;
  /** The UDP port, once bound. */
  port = 0;
  readonly #deps: DongleDeps;
  readonly #perId = new IdCounters();
  readonly #authFailures: AuthFailureWindow;
  readonly #timers = new Set<NodeJS.Timeout>();
  #secret: Uint8Array;
  #token: Uint8Array | undefined;
  #canConfig: CanConfig;
  #remote: (Peer & { lastSeenAt: number }) | undefined;
  #seq = 0;
  #pairedAt: number | undefined;

  constructor(identity: DongleIdentity, persisted: Partial<Persisted>, deps: DongleDeps) {
    this.identity = identity;
    this.#deps = deps;
    this.startedAt = deps.clock();
    this.#authFailures = new AuthFailureWindow(deps.clock);
    this.#secret = persisted.secret ?? new Uint8Array(randomBytes(32));
    this.#token = persisted.token;
    this.#canConfig = persisted.canConfig ?? DEFAULT_CAN_CONFIG;
    this.pairing = new PairingMachine({
      clock: deps.clock,
      windowMs: deps.pairingMs,
      cooldownMs: deps.cooldownMs,
      ...(deps.newPin ? { newPin: deps.newPin } : {}),
      ...(deps.newNonce ? { newNonce: deps.newNonce } : {}),
    });
    this.bus = new VirtualBus({
      clock: deps.clock,
      read: (frame, flags) => this.sendFrame(frame, flags),
      onTrafficDone: (s) =>
        this.#info(
          `traffic ${s.stoppedBy === 'done' ? 'done' : 'stopped'}: ${s.sent} frames, ${s.achievedRate} frames/s`,
        ),
    });
  }

  get deviceId(): string {
    return this.identity.deviceId;
  }

  get remote(): Peer | undefined {
    return this.#remote && { address: this.#remote.address, port: this.#remote.port };
  }

  get paired(): boolean {
    return this.#token !== undefined;
  }

  get canConfig(): CanConfig {
    return this.#canConfig;
  }

  persisted(): Persisted {
    return { secret: this.#secret, token: this.#token, canConfig: this.#canConfig };
  }

  secretFingerprint(): string {
    return fingerprint(this.#secret);
  }

  /** One datagram on the dongle's socket. Never throws on hostile bytes. */
  receive(bytes: Uint8Array, from: Peer): void {
    this.counters.datagrams_in++;
    if (datagramKind(bytes) === 'discovery') {
      this.#unicastDiscover(bytes, from);
      return;
    }
    const decoded = decodeRemp(bytes);
    if (!decoded.ok) {
      this.counters.malformed++;
      this.#deps.log.burst(
        `${this.deviceId}:malformed`,
        `${this.#tag()} malformed datagram from ${peer(from)}: ${decoded.error.code}: ${decoded.error.message}`,
      );
      return;
    }
    const message = decoded.value;
    if (message.type === 'pairing') {
      this.#onPairing(message.pairing, from);
      return;
    }
    if (!tokenMatches(this.#token, message.token)) {
      this.#onRejected(message, from);
      return;
    }
    this.#heardFrom(from);
    if (message.type === 'can_frame') this.#onFrame(message.frame);
    else if (message.type === 'can_config') this.#onCanConfig(message.config, from);
    else this.#onCli(message.cli, from);
  }

  /** The ANNOUNCE describing this dongle now. */
  announce(): Announce {
    const p = this.pairing.snapshot();
    const failures = this.#authFailures.worst();
    return {
      deviceId: this.deviceId,
      fwBuild: this.identity.fwBuild,
      udpPort: this.port,
      capabilities: SIM_CAPABILITIES,
      protoVer: REMP_VERSION,
      lanIp: this.identity.lanIp,
      pairingState: p.phase === 'pairing' ? 1 : 0,
      ...(p.phase === 'pairing' && p.nonce ? { pairingNonce: p.nonce } : {}),
      ...(failures ? { authFailures: failures } : {}),
    };
  }

  /** Answers a DISCOVER (legacy ones in the legacy format) to whoever sent it. */
  answerDiscover(seq: number, legacy: boolean, to: Peer): void {
    this.counters.discovers_answered++;
    this.#send(encodeDiscovery({ type: 'announce', seq, legacy, announce: this.announce() }), to);
  }

  /** A frame read off the bus: to the remote, if there is one. */
  sendFrame(frame: BusFrame, flags: number): void {
    const remote = this.#remote;
    if (remote === undefined) {
      this.counters.frames_no_remote++;
      return;
    }
    this.counters.frames_to_remote++;
    this.#perId.count(frame, 'tx');
    this.#reply({ type: 'can_frame', frame: { ...frame, flags } }, remote);
  }

  /** The pairing button: like PAIRING_MODE_START from the network. */
  pressPairingButton(): ReturnType<PairingMachine['start']> {
    const outcome = this.pairing.start();
    if (outcome.status === 'ok' && outcome.fresh) this.#announcePin(outcome.pin, outcome.seconds);
    return outcome;
  }

  /** Factory reset: a new secret, the token forgotten, no pairing mode or cooldown, no remote. */
  factoryReset(): void {
    this.#secret = new Uint8Array(randomBytes(32));
    this.#token = undefined;
    this.#remote = undefined;
    this.pairing.reset();
    this.bus.stopTraffic();
    this.#authFailures.clear();
    this.#deps.persist();
    this.#info(`FACTORY RESET — new secret fp ${this.secretFingerprint()}, token forgotten`);
  }

  view(): DongleView {
    return {
      now: this.#deps.clock(),
      startedAt: this.startedAt,
      deviceId: this.deviceId,
      fwBuild: this.identity.fwBuild,
      fwBuildNumber: this.identity.fwBuildNumber,
      lanIp: this.identity.lanIp,
      udpPort: this.port,
      paired: this.paired,
      secretFingerprint: this.secretFingerprint(),
      pairing: this.pairing.snapshot(),
      remote: this.#remote && { ...this.#remote },
      counters: { ...this.counters },
      perId: this.#perId.rows(),
      canConfig: this.#canConfig,
      discovery: this.#deps.discovery(),
    };
  }

  /** Cancels pending replies and stops the traffic generator. */
  close(): void {
    for (const timer of this.#timers) clearTimeout(timer);
    this.#timers.clear();
    this.bus.stopTraffic();
  }

  // ---- REMP handlers ----

  #onPairing(message: PairingMessage, from: Peer): void {
    const answer = answerPairing(this.pairing, message);
    if (answer === undefined) {
      this.#unexpected('a pairing ACK', from);
      return;
    }
    if (answer.newPin) this.#announcePin(answer.newPin.pin, answer.newPin.seconds);
    this.#info(`${answer.event}, from ${peer(from)}`);
    if (answer.token) {
      this.#token = answer.token;
      this.#pairedAt = this.#deps.clock();
      this.#deps.persist();
      this.#heardFrom(from);
    }
    this.#reply({ type: 'pairing', pairing: answer.ack }, from);
  }

  #onRejected(message: RempMessage, from: Peer): void {
    this.counters.auth_failures++;
    this.#authFailures.record(from.address);
    this.#deps.log.burst(
      `${this.deviceId}:auth`,
      `${this.#tag()} token rejected (${message.type}${this.paired ? '' : ', not paired'}) from ${peer(from)}`,
    );
    const reply = rejectionReply(message, this.#canConfig);
    if (reply) this.#reply(reply, from, FLAG_AUTH_REJECTED);
  }

  #onFrame(frame: BusFrame): void {
    this.counters.frames_from_remote++;
    this.#perId.count(frame, 'rx');
    if (!this.bus.transmit({ id: frame.id, extended: frame.extended, data: frame.data }, this.#canConfig)) {
      this.counters.frames_not_sent++;
    }
  }

  #onCanConfig(message: Extract<RempBody, { type: 'can_config' }>['config'], from: Peer): void {
    if (message.action === 'response') {
      this.#unexpected('a CAN config response', from);
      return;
    }
    if (message.action === 'get') {
      this.#reply(
        { type: 'can_config', config: { action: 'response', status: 'ok', config: this.#canConfig } },
        from,
      );
      return;
    }
    const outcome = applyCanConfig(this.#canConfig, message.config, this.knobs.failNextApply);
    this.knobs.failNextApply = false;
    if (outcome.status === 'ok') {
      this.#canConfig = outcome.config;
      this.#deps.persist();
      this.#info(
        `CAN config applied from ${peer(from)}: ${outcome.config.bitrate} bit/s, ${outcome.config.mode}`,
      );
    } else if (outcome.status === 'invalid') {
      this.#info(`CAN config from ${peer(from)} invalid: ${outcome.problems.join('; ')}`);
    } else {
      this.#info(`CAN config from ${peer(from)}: apply failed (control knob)`);
    }
    this.#reply(
      { type: 'can_config', config: { action: 'response', status: outcome.status, config: outcome.config } },
      from,
    );
  }

  #onCli(message: CliMessage, from: Peer): void {
    if (message.action === 'response') {
      this.#unexpected('a CLI response', from);
      return;
    }
    const padBytes = this.knobs.padBytes;
    this.knobs.padBytes = 0;
    const allowed = isAllowedCommand(message.command) ? '' : ' (not allowed)';
    this.#info(`CLI ${JSON.stringify(message.command.slice(0, 80))} from ${peer(from)}${allowed}`);
    runCli({
      request: message,
      delayMs: this.knobs.cliDelayMs,
      timeoutMs: this.#deps.cliTimeoutMs,
      padBytes,
      view: () => this.view(),
      later: (ms, fn) => this.#later(ms, fn),
      send: (response) => this.#reply({ type: 'cli', cli: response }, from),
    });
  }

  #unicastDiscover(bytes: Uint8Array, from: Peer): void {
    const decoded = decodeDiscovery(bytes);
    if (!decoded.ok || decoded.value.type !== 'discover') {
      this.counters.malformed++;
      const why = decoded.ok ? 'not a DISCOVER' : decoded.error.code;
      this.#deps.log.burst(
        `${this.deviceId}:malformed`,
        `${this.#tag()} bad discovery datagram from ${peer(from)}: ${why}`,
      );
      return;
    }
    this.answerDiscover(decoded.value.seq, decoded.value.legacy, from);
  }

  // ---- helpers ----

  #heardFrom(from: Peer): void {
    const previous = this.#remote;
    this.#remote = { ...from, lastSeenAt: this.#deps.clock() };
    if (previous?.address !== from.address || previous.port !== from.port) {
      this.#info(`remote is now ${peer(from)}`);
    }
  }

  #reply(body: RempBody, to: Peer, flags = 0): void {
    const message = {
      flags,
      fwBuild: this.identity.fwBuildNumber,
      deviceId: this.deviceId,
      seq: this.#seq,
      timestampUs: BigInt(this.#deps.clock()) * 1000n,
      token: new Uint8Array(0),
      ...body,
    } as RempMessage;
    this.#seq = (this.#seq + 1) >>> 0;
    this.#send(encodeRemp(message), to);
  }

  #send(bytes: Uint8Array, to: Peer): void {
    this.counters.datagrams_out++;
    this.#deps.send(bytes, to, () => this.counters.send_errors++);
  }

  #unexpected(what: string, from: Peer): void {
    this.counters.unexpected++;
    this.#deps.log.burst(`${this.deviceId}:unexpected`, `${this.#tag()} ignored ${what} from ${peer(from)}`);
  }

  #announcePin(pin: string, seconds: number): void {
    this.#deps.log.notice(`${this.#tag()} PAIRING MODE — PIN ${pin} (${seconds} s)`);
    const openedAt = this.#deps.clock();
    this.#later(seconds * 1000 + 50, () => {
      const paired = this.#pairedAt !== undefined && this.#pairedAt >= openedAt;
      if (this.pairing.snapshot().phase === 'idle' && !paired) this.#info('pairing mode over, no right PIN');
    });
  }

  #later(ms: number, fn: () => void): void {
    const timer = setTimeout(() => {
      this.#timers.delete(timer);
      fn();
    }, ms);
    this.#timers.add(timer);
  }

  #info(line: string): void {
    this.#deps.log.info(`${this.#tag()} ${line}`);
  }

  #tag(): string {
    return `[dongle ${this.deviceId}]`;
  }
}

const peer = (p: Peer) => `${p.address}:${p.port}`;
