import { CAN_FLAG_LOOPBACK, CAN_FLAG_SIMULATED, type CanConfig } from '@canopy/remp';
import type { Clock } from './clock';
import { type BusFrame, ecuAnswer, OBD_RESPONSE_ID } from './ecu';
import { engineAt } from './engine';
import { Sink } from './sink';
import type { TrafficPlan } from './traffic';
import { TrafficRunner, type TrafficStatus } from './traffic-runner';

/*
 * One dongle's simulated CAN bus: the virtual ECU and the sink sit on it, the traffic generator talks on it.
 * Frames from the remote are transmitted onto it (as the controller mode allows); whatever the other nodes
 * put on it is read by the dongle and goes to the remote, flagged simulated.
 */

/** What the controller does with a frame the remote asks it to send (REMP.md type 2 `mode`, `tx_pause`). */
export function transmitPath(config: CanConfig): { bus: boolean; echo: boolean } {
  if (config.flags.txPause || config.mode === 'listen_only') return { bus: false, echo: false };
  if (config.mode === 'loopback') return { bus: false, echo: true };
  return { bus: true, echo: config.mode === 'ext_loop' };
}

export interface BusDeps {
  clock: Clock;
  /** A frame read off the bus (or looped back), to go to the remote with these REMP CAN flags. */
  read(frame: BusFrame, flags: number): void;
  onTrafficDone(status: TrafficStatus): void;
}

export class VirtualBus {
  readonly sink = new Sink();
  readonly #deps: BusDeps;
  readonly #traffic: TrafficRunner;
  readonly #engineStartedAt: number;

  constructor(deps: BusDeps) {
    this.#deps = deps;
    this.#engineStartedAt = deps.clock();
    this.#traffic = new TrafficRunner((frame) => deps.read(frame, CAN_FLAG_SIMULATED), deps.onTrafficDone);
  }

  /** A frame from the remote. Returns whether it reached the bus. */
  transmit(frame: BusFrame, config: CanConfig): boolean {
    const path = transmitPath(config);
    if (path.echo) this.#deps.read(frame, CAN_FLAG_SIMULATED | CAN_FLAG_LOOPBACK);
    if (!path.bus) return false;
    const now = this.#deps.clock();
    this.sink.record(frame, now);
    const answer = ecuAnswer(frame, engineAt(now - this.#engineStartedAt));
    if (answer !== undefined) this.put({ id: OBD_RESPONSE_ID, extended: false, data: answer });
    return true;
  }

  /** Another node on the bus sends a frame (the ECU, or one injected through the control interface). */
  put(frame: BusFrame): void {
    this.#deps.read(frame, CAN_FLAG_SIMULATED);
  }

  startTraffic(plan: TrafficPlan): TrafficStatus {
    return this.#traffic.start(plan);
  }

  stopTraffic(): TrafficStatus {
    return this.#traffic.stop();
  }

  trafficStatus(): TrafficStatus {
    return this.#traffic.status();
  }
}
