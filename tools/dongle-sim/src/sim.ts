import { createSocket, type Socket } from 'node:dgram';
import type { Clock } from './clock';
import { type Control, startControl } from './control';
import { bindSocket, broadcastAddressFor, DiscoveryListener } from './discovery';
import { Dongle, type DongleDeps } from './dongle';
import { deviceIdFor } from './identity';
import type { Log } from './log';
import { type Options, UsageError } from './options';
import { type KeptDongle, readState, writeState } from './state-file';

/* Wires the simulator together: the dongles and their sockets, the discovery listener, the control server. */

export interface Sim {
  dongles: Dongle[];
  controlPort: number;
  close(): Promise<void>;
}

export async function startSim(options: Options, log: Log, clock: Clock): Promise<Sim> {
  const broadcast = broadcastAddressFor(options.host);
  if (broadcast === undefined) {
    throw new UsageError(`--host ${options.host} is not on any interface of this machine`);
  }
  const kept: Map<string, KeptDongle> = options.statePath ? readState(options.statePath) : new Map();
  const dongles: Dongle[] = [];
  const sockets: Socket[] = [];
  const listening = [broadcast, ...(options.discoveryUnicast ? [options.host] : [])];
  const discovery = new DiscoveryListener({
    addresses: listening,
    port: options.discoveryPort,
    dongles,
    log,
    clock,
  });
  const shared: Omit<DongleDeps, 'send'> = {
    clock,
    log,
    persist: () => {
      if (options.statePath === undefined) return;
      for (const d of dongles) kept.set(d.deviceId, d.persisted());
      writeState(options.statePath, kept);
    },
    discovery: () => discovery.view(),
    pairingMs: options.pairingSeconds * 1000,
    cooldownMs: options.cooldownSeconds * 1000,
    cliTimeoutMs: options.cliTimeoutMs,
  };
  let control: Control | undefined;
  const close = async () => {
    for (const d of dongles) d.close();
    discovery.close();
    for (const s of sockets.splice(0)) s.close();
    await control?.close();
  };

  try {
    for (let index = 0; index < options.count; index++) {
      const socket = createSocket({ type: 'udp4' });
      sockets.push(socket);
      const deviceId = deviceIdFor(options.seed, index);
      const identity = {
        index,
        deviceId,
        fwBuild: options.fwBuild,
        fwBuildNumber: options.fwBuildNumber,
        lanIp: options.host,
      };
      const dongle = new Dongle(identity, kept.get(deviceId) ?? {}, {
        ...shared,
        send: sender(socket, deviceId, log),
      });
      const port = options.rempPortBase === 0 ? 0 : options.rempPortBase + index;
      await listen(socket, dongle, options.host, port, log);
      dongles.push(dongle);
    }
    shared.persist();
    await discovery.start();
    control = await startControl(options.controlPort, {
      dongles,
      about: () => {
        const view = discovery.view();
        return {
          host: options.host,
          discovery: {
            listening: view.listening,
            answered: view.answered,
            last_requesters: view.lastRequesters,
          },
        };
      },
    });
  } catch (err) {
    await close();
    throw err;
  }

  for (const d of dongles) {
    log.banner(
      `dongle ${d.deviceId} index ${d.identity.index} remp ${options.host}:${d.port} fw ${options.fwBuild}` +
        ` paired ${d.paired ? 'yes' : 'no'}`,
    );
  }
  log.banner(`discovery: ${listening.map((a) => `${a}:${options.discoveryPort}`).join(' ')}`);
  log.banner(`control: http://127.0.0.1:${control.port}`);
  return { dongles, controlPort: control.port, close };
}

/** A dongle's way out: its own socket, to the peer that wrote to it. Send errors are counted by the dongle. */
function sender(socket: Socket, deviceId: string, log: Log): DongleDeps['send'] {
  return (bytes, to, onError) =>
    socket.send(bytes, to.port, to.address, (err) => {
      if (!err) return;
      onError();
      log.burst(
        `${deviceId}:send`,
        `[dongle ${deviceId}] send to ${to.address}:${to.port} failed: ${err.message}`,
      );
    });
}

/** Binds a dongle's socket and feeds it the datagrams. */
async function listen(socket: Socket, dongle: Dongle, host: string, port: number, log: Log): Promise<void> {
  const tag = `[dongle ${dongle.deviceId}]`;
  socket.on('message', (bytes, rinfo) => {
    try {
      dongle.receive(bytes, { address: rinfo.address, port: rinfo.port });
    } catch (err) {
      // A bug in a handler must not take the other dongles down: counted and logged instead.
      dongle.counters.malformed++;
      log.burst(`${dongle.deviceId}:internal`, `${tag} could not handle a datagram: ${String(err)}`);
    }
  });
  await bindSocket(socket, host, port);
  dongle.port = socket.address().port;
  socket.on('error', (err) => log.info(`${tag} socket: ${err.message}`));
  try {
    // Room for bursts at ~9,000 frames/s each way while the process waits for a core: 4 MiB holds about
    // 4,000 small datagrams, a few hundred milliseconds (the kernel caps it at net.core.[rw]mem_max).
    socket.setRecvBufferSize(4 * 1024 * 1024);
    socket.setSendBufferSize(4 * 1024 * 1024);
  } catch {
    // the defaults, then
  }
}
