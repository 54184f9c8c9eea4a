import dgram from 'node:dgram';
import { decodeDiscovery, encodeDiscovery } from '@canopy/remp';
import type { Logger } from 'pino';
import { type DiscoveryInterface, inSubnet } from './interfaces';
import type { Heard } from './registry';

/** How long a scan listens for ANNOUNCEs after its DISCOVERs went out. */
export const SCAN_WINDOW_MS = 1500;

export interface DiscoveryOptions {
  /** Where dongles listen for DISCOVER (50000), and the port this socket tries to bind. */
  port: number;
  log: Logger;
  /** BRIDGE_AGENT_DEBUG_DISCOVERY: every datagram's fate is logged. */
  debug: boolean;
  /** Each ANNOUNCE as it arrives (also outside a scan: a dongle may announce on its own). */
  onHeard: (heard: Heard) => void;
  /** A datagram that was not a valid discovery message. */
  onMalformed: (code: string, from: string) => void;
}

/**
 * The discovery socket: binds the discovery port when it can (some firmware answers to it), else an
 * ephemeral one; broadcasts DISCOVER on each chosen interface; hands every ANNOUNCE from a sender on one of
 * those interfaces' subnets to `onHeard`.
 */
export class DiscoverySocket {
  #socket: dgram.Socket | null = null;
  #seq = 0;
  #interfaces: DiscoveryInterface[] = [];
  boundPort: number | null = null;

  constructor(private readonly options: DiscoveryOptions) {}

  async open(): Promise<void> {
    const { port, log } = this.options;
    try {
      this.#socket = await bind(port);
    } catch (err) {
      log.info(
        { port, err: (err as NodeJS.ErrnoException).code ?? String(err) },
        `discovery port ${port} is taken; using an ephemeral port (dongles answer to the source port)`,
      );
      this.#socket = await bind(0);
    }
    this.#socket.setBroadcast(true);
    this.boundPort = this.#socket.address().port;
    this.#socket.on('message', (data, rinfo) => this.onDatagram(data, rinfo.address));
    this.#socket.on('error', (err) => log.warn({ err: err.message }, 'discovery socket error'));
  }

  /** Broadcasts one DISCOVER per interface, then listens SCAN_WINDOW_MS for the answers. */
  async scan(interfaces: DiscoveryInterface[], windowMs = SCAN_WINDOW_MS): Promise<void> {
    const socket = this.#socket;
    if (!socket) throw new Error('the discovery socket is not open');
    this.#interfaces = interfaces;
    await Promise.all(
      interfaces.map((iface) => {
        this.#seq = (this.#seq + 1) >>> 0;
        const datagram = encodeDiscovery({ type: 'discover', seq: this.#seq, legacy: false });
        return new Promise<void>((resolve) => {
          socket.send(datagram, this.options.port, iface.broadcast, (err) => {
            if (err)
              this.options.log.warn({ iface: iface.name, err: err.message }, 'DISCOVER could not be sent');
            else if (this.options.debug) {
              this.options.log.info(
                { iface: iface.name, to: `${iface.broadcast}:${this.options.port}` },
                'DISCOVER sent',
              );
            }
            resolve();
          });
        });
      }),
    );
    await new Promise((resolve) => setTimeout(resolve, windowMs));
  }

  close(): void {
    this.#socket?.close();
    this.#socket = null;
  }

  private onDatagram(data: Buffer, from: string): void {
    const { debug, log } = this.options;
    const decoded = decodeDiscovery(data);
    if (!decoded.ok) {
      this.options.onMalformed(decoded.error.code, from);
      return;
    }
    const message = decoded.value;
    if (message.type === 'discover') return; // ours, echoed by the broadcast, or another node's
    // Only a sender on one of the discovery interfaces' subnets is a dongle on this node's LAN.
    const iface = this.#interfaces.find((i) => inSubnet(from, i));
    if (!iface) {
      if (debug) log.info({ from }, 'ANNOUNCE from outside the discovery interfaces; ignored');
      this.options.onMalformed('FOREIGN_SENDER', from);
      return;
    }
    if (debug) {
      log.info(
        {
          from,
          iface: iface.name,
          device_id: message.announce.deviceId,
          pairing: message.announce.pairingState === 1,
        },
        'ANNOUNCE heard',
      );
    }
    this.options.onHeard({ announce: message.announce, iface: iface.name, from });
  }
}

function bind(port: number): Promise<dgram.Socket> {
  return new Promise((resolve, reject) => {
    // reuseAddr: a simulator on the same machine listens on the same port for the broadcasts.
    const socket = dgram.createSocket({ type: 'udp4', reuseAddr: true });
    socket.once('error', (err) => {
      socket.close();
      reject(err);
    });
    socket.bind(port, '0.0.0.0', () => {
      socket.removeAllListeners('error');
      resolve(socket);
    });
  });
}
