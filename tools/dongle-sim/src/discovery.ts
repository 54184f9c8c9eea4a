import { createSocket, type Socket } from 'node:dgram';
import { type NetworkInterfaceInfo, networkInterfaces } from 'node:os';
import { decodeDiscovery } from '@canopy/remp';
import type { Clock } from './clock';
import type { DiscoveryView, Requester } from './commands';
import type { Dongle, Peer } from './dongle';
import type { Log } from './log';

/*
 * Hearing DISCOVERs (REMP.md §1, spec 002 §10). The simulator never broadcasts: it binds the broadcast
 * address of the interface holding --host (127.255.255.255 for 127.0.0.1), so it hears the agent's
 * broadcasts without taking unicast replies meant for an agent on the same machine, and answers each
 * DISCOVER with one ANNOUNCE per dongle, unicast from that dongle's REMP socket to the sender.
 */

const LAST_REQUESTERS = 5;

const toInt = (ip: string) => ip.split('.').reduce((n, octet) => ((n << 8) | Number(octet)) >>> 0, 0);
const toIp = (n: number) => [n >>> 24, (n >>> 16) & 0xff, (n >>> 8) & 0xff, n & 0xff].join('.');

/**
 * The broadcast address (address | ~netmask) of the interface that holds `host`, or whose subnet contains it
 * (127.0.0.2 is on lo's 127.0.0.0/8); undefined when no interface does.
 */
export function broadcastAddressFor(
  host: string,
  interfaces: NodeJS.Dict<NetworkInterfaceInfo[]> = networkInterfaces(),
): string | undefined {
  const v4 = Object.values(interfaces)
    .flatMap((list) => list ?? [])
    .filter((i) => i.family === 'IPv4');
  const wanted = toInt(host);
  const holder =
    v4.find((i) => i.address === host) ??
    v4.find((i) => ((toInt(i.address) ^ wanted) & toInt(i.netmask)) >>> 0 === 0);
  if (holder === undefined) return undefined;
  return toIp((toInt(holder.address) | ~toInt(holder.netmask)) >>> 0);
}

export interface DiscoveryOptions {
  /** Where to listen: the broadcast address, and --host too with --discovery-unicast. */
  addresses: string[];
  port: number;
  dongles: Dongle[];
  log: Log;
  clock: Clock;
}

export class DiscoveryListener {
  readonly #options: DiscoveryOptions;
  readonly #sockets: Socket[] = [];
  readonly #requesters: Requester[] = [];
  #answered = 0;
  #malformed = 0;

  constructor(options: DiscoveryOptions) {
    this.#options = options;
  }

  async start(): Promise<void> {
    for (const address of this.#options.addresses) {
      const socket = createSocket({ type: 'udp4', reuseAddr: true });
      socket.on('message', (bytes, rinfo) =>
        this.#onMessage(bytes, { address: rinfo.address, port: rinfo.port }),
      );
      await bindSocket(socket, address, this.#options.port);
      socket.on('error', (err) => this.#options.log.info(`[discovery] socket ${address}: ${err.message}`));
      this.#sockets.push(socket);
    }
  }

  view(): DiscoveryView {
    return {
      listening: this.#options.addresses.map((a) => `${a}:${this.#options.port}`),
      answered: this.#answered,
      lastRequesters: this.#requesters.map((r) => ({ ...r })),
    };
  }

  get malformed(): number {
    return this.#malformed;
  }

  close(): void {
    for (const socket of this.#sockets.splice(0)) socket.close();
  }

  #onMessage(bytes: Uint8Array, from: Peer): void {
    const decoded = decodeDiscovery(bytes);
    if (!decoded.ok) {
      this.#malformed++;
      this.#options.log.burst(
        'discovery:malformed',
        `[discovery] malformed datagram from ${from.address}:${from.port}: ${decoded.error.code}: ${decoded.error.message}`,
      );
      return;
    }
    if (decoded.value.type !== 'discover') return; // another dongle's ANNOUNCE, or an echo
    this.#answered++;
    this.#remember(from);
    const { seq, legacy } = decoded.value;
    this.#options.log.info(
      `[discovery] DISCOVER seq ${seq}${legacy ? ' (legacy)' : ''} from ${from.address}:${from.port}: ` +
        `${this.#options.dongles.length} ANNOUNCE${this.#options.dongles.length === 1 ? '' : 's'}`,
    );
    for (const dongle of this.#options.dongles) dongle.answerDiscover(seq, legacy, from);
  }

  #remember(from: Peer): void {
    const at = this.#options.clock();
    const i = this.#requesters.findIndex((r) => r.address === from.address && r.port === from.port);
    if (i >= 0) this.#requesters.splice(i, 1);
    this.#requesters.unshift({ ...from, at });
    this.#requesters.length = Math.min(this.#requesters.length, LAST_REQUESTERS);
  }
}

/** Binds a UDP socket; rejects with a readable error (a port in use, an address not on this machine). */
export function bindSocket(socket: Socket, address: string, port: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const onError = (err: Error) => reject(new Error(`cannot bind UDP ${address}:${port}: ${err.message}`));
    socket.once('error', onError);
    socket.bind({ address, port, exclusive: true }, () => {
      socket.off('error', onError);
      resolve();
    });
  });
}
