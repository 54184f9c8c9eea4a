import os from 'node:os';
import type { DongleReport, DongleRequestMessage, DongleResponseMessage } from '@canopy/protocol';
import type { Logger } from 'pino';
import { DiscoverySocket, SCAN_WINDOW_MS } from './discovery';
import { chooseInterfaces, type DiscoveryInterface, type InterfaceTable, interfaceIsUp } from './interfaces';
import { DongleRegistry } from './registry';
import { type FrameHandler, RempClient } from './remp-client';
import { handleDongleRequest } from './requests';

/** Where and whether to discover dongles (config.json `discovery`, overridden by the environment). */
export interface DiscoverySettings {
  enabled: boolean;
  /** Only these interface names (loopback allowed); null: every eligible interface. */
  interfaces: string[] | null;
  /** The port dongles listen on for DISCOVER (50000). */
  port: number;
  /** BRIDGE_AGENT_DEBUG_DISCOVERY=1 */
  debug: boolean;
}

/** spec 002 §10.3: every 2–5 s while a Dongles page is open (2–3 s here), else every 15–30 s. */
export const FAST_SCAN_MS = [2000, 3000] as const;
export const SLOW_SCAN_MS = [15_000, 30_000] as const;
/** A report goes out on every change, and at least this often. */
export const REPORT_EVERY_MS = 60_000;
/** A new or returning dongle is reported this soon after its ANNOUNCE, without waiting for the scan's end. */
const EARLY_REPORT_MS = 100;

export interface BridgeStatus {
  enabled: boolean;
  boundPort: number | null;
  interfaces: string[];
  dongles: number;
  online: number;
  malformed: number;
  lastScanAt: string | null;
  lastReportAt: string | null;
}

export interface BridgeOptions {
  settings: DiscoverySettings;
  log: Logger;
  /** Sends the snapshot to the cloud; may answer until when to scan fast. */
  report: (report: DongleReport) => Promise<{ fastScanUntil: string | null } | undefined>;
  listInterfaces?: () => InterfaceTable;
  isUp?: (name: string) => boolean;
  random?: () => number;
  now?: () => number;
  /** CAN frames a dongle sends to this node (its bus traffic, once this node is its remote). */
  onFrame?: FrameHandler;
}

/**
 * canopy-node's side of the dongles (spec 002 §9, §10): scans the LAN, keeps the merged list, reports it to
 * the cloud, and holds the REMP socket that later requests to dongles use.
 */
export class Bridge {
  readonly registry = new DongleRegistry();
  readonly remp: RempClient;
  readonly #discovery: DiscoverySocket;
  readonly #log: Logger;
  #timer: NodeJS.Timeout | null = null;
  #earlyTimer: NodeJS.Timeout | null = null;
  #running = false;
  #scanning: Promise<void> | null = null;
  #fastUntil = 0;
  #interfaces: DiscoveryInterface[] = [];
  #interfaceKey = '';
  #malformed = 0;
  #lastMalformedLogAt = 0;
  #lastScanAt: number | null = null;
  #lastReportAt: number | null = null;
  #reportDue = true;

  constructor(private readonly options: BridgeOptions) {
    this.#log = options.log.child({ component: 'bridge' });
    const onMalformed = (code: string, from: string) => this.malformed(code, from);
    this.#discovery = new DiscoverySocket({
      port: options.settings.port,
      log: this.#log,
      debug: options.settings.debug,
      onHeard: (heard) => {
        if (this.registry.hear(heard, this.now())) this.reportSoon();
      },
      onMalformed,
    });
    this.remp = new RempClient({ log: this.#log, onMalformed, onFrame: options.onFrame });
  }

  async start(): Promise<void> {
    const { settings } = this.options;
    if (!settings.enabled) {
      this.#log.info('dongle discovery is off (discovery.enabled false or CANOPY_DISCOVERY=off)');
      return;
    }
    await this.#discovery.open();
    await this.remp.open();
    this.#running = true;
    this.#log.info(
      {
        discovery_port: this.#discovery.boundPort,
        remp_port: this.remp.port,
        interfaces: settings.interfaces ?? 'every eligible interface',
      },
      'dongle discovery started',
    );
    this.schedule(500);
  }

  /** Discovery and the REMP socket are open. */
  get running(): boolean {
    return this.#running;
  }

  /** The cloud asks for fast scans until `until` (a Dongles page is open): scan now if not already. */
  scanFast(until: string): void {
    const at = Date.parse(until);
    if (!Number.isFinite(at)) return;
    const wasFast = this.fast;
    this.#fastUntil = Math.max(this.#fastUntil, Math.min(at, this.now() + 10 * 60_000));
    if (this.#running && !wasFast && this.fast) this.schedule(0);
  }

  /** The link reconnected: the cloud may have missed changes, so the next scan reports. */
  reconnected(): void {
    this.#reportDue = true;
    if (this.#running && !this.#scanning) void this.sendReport();
  }

  /** A request of the cloud on one of the dongles this node sees. */
  handle(message: DongleRequestMessage): Promise<DongleResponseMessage['outcome']> {
    return handleDongleRequest(
      { registry: this.registry, remp: this.remp, log: this.#log, enabled: this.#running },
      message,
    );
  }

  status(): BridgeStatus {
    const snapshot = this.registry.snapshot();
    return {
      enabled: this.options.settings.enabled,
      boundPort: this.#discovery.boundPort,
      interfaces: this.#interfaces.map((i) => `${i.name} (${i.address})`),
      dongles: snapshot.length,
      online: snapshot.filter((d) => d.online).length,
      malformed: this.#malformed,
      lastScanAt: this.#lastScanAt === null ? null : new Date(this.#lastScanAt).toISOString(),
      lastReportAt: this.#lastReportAt === null ? null : new Date(this.#lastReportAt).toISOString(),
    };
  }

  async stop(): Promise<void> {
    this.#running = false;
    if (this.#timer) clearTimeout(this.#timer);
    if (this.#earlyTimer) clearTimeout(this.#earlyTimer);
    await this.#scanning?.catch(() => undefined);
    this.#discovery.close();
    this.remp.close();
  }

  private get fast(): boolean {
    return this.now() < this.#fastUntil;
  }

  private now(): number {
    return this.options.now?.() ?? Date.now();
  }

  private schedule(delayMs?: number): void {
    if (!this.#running) return;
    if (this.#timer) clearTimeout(this.#timer);
    const [min, max] = this.fast ? FAST_SCAN_MS : SLOW_SCAN_MS;
    const random = this.options.random ?? Math.random;
    const delay = delayMs ?? min + random() * (max - min);
    this.#timer = setTimeout(() => {
      this.#timer = null;
      if (this.#scanning) return;
      const started = this.now();
      this.#scanning = this.scanOnce()
        .catch((err) =>
          this.#log.warn({ err: err instanceof Error ? err.message : String(err) }, 'scan failed'),
        )
        .finally(() => {
          this.#scanning = null;
          // Intervals run start to start; a scan takes SCAN_WINDOW_MS of it.
          if (this.#timer === null) {
            const [lo, hi] = this.fast ? FAST_SCAN_MS : SLOW_SCAN_MS;
            const interval = lo + random() * (hi - lo);
            this.schedule(Math.max(0, interval - (this.now() - started)));
          }
        });
    }, delay);
    this.#timer.unref();
  }

  private async scanOnce(): Promise<void> {
    const { settings } = this.options;
    const choice = chooseInterfaces((this.options.listInterfaces ?? os.networkInterfaces)(), {
      allow: settings.interfaces,
      isUp: this.options.isUp ?? interfaceIsUp,
    });
    const key = choice.eligible.map((i) => `${i.name}/${i.address}/${i.broadcast}`).join(',');
    if (key !== this.#interfaceKey || settings.debug) {
      const level = choice.eligible.length === 0 ? 'warn' : 'info';
      if (key !== this.#interfaceKey || level === 'info') {
        this.#log[key !== this.#interfaceKey ? level : 'debug'](
          {
            eligible: choice.eligible.map((i) => `${i.name} ${i.address} → ${i.broadcast}`),
            ...(settings.debug ? { skipped: choice.skipped } : {}),
          },
          choice.eligible.length === 0
            ? 'no network interface to discover dongles on'
            : `discovering dongles on ${choice.eligible.map((i) => i.name).join(', ')}`,
        );
      }
      this.#interfaceKey = key;
    }
    this.#interfaces = choice.eligible;
    if (choice.eligible.length > 0) {
      this.registry.beginScan();
      await this.#discovery.scan(choice.eligible, SCAN_WINDOW_MS);
    }
    this.#lastScanAt = this.now();
    this.registry.endScan(this.now());
    const periodic = this.#lastReportAt === null || this.now() - this.#lastReportAt >= REPORT_EVERY_MS;
    if (this.#reportDue || this.registry.dirty || periodic) await this.sendReport();
  }

  private reportSoon(): void {
    if (this.#earlyTimer || !this.#running) return;
    this.#earlyTimer = setTimeout(() => {
      this.#earlyTimer = null;
      void this.sendReport();
    }, EARLY_REPORT_MS);
    this.#earlyTimer.unref();
  }

  private async sendReport(): Promise<void> {
    const report: DongleReport = { dongles: this.registry.snapshot() };
    this.#reportDue = false;
    try {
      const answer = await this.options.report(report);
      this.registry.markReported(report.dongles);
      this.#lastReportAt = this.now();
      if (this.options.settings.debug) {
        this.#log.info(
          {
            dongles: report.dongles.map(
              (d) => `${d.device_id} ${d.lan_ip} ${d.online ? 'online' : 'offline'}`,
            ),
          },
          'dongle report sent',
        );
      }
      if (answer?.fastScanUntil) this.scanFast(answer.fastScanUntil);
    } catch (err) {
      this.#reportDue = true; // sent again after the next scan
      this.#log.debug({ err: err instanceof Error ? err.message : String(err) }, 'dongle report not sent');
    }
  }

  /** Hostile or broken datagrams are counted and logged (at most one line a minute unless debugging). */
  private malformed(code: string, from: string): void {
    this.#malformed++;
    const now = this.now();
    if (this.options.settings.debug || now - this.#lastMalformedLogAt >= 60_000) {
      this.#lastMalformedLogAt = now;
      this.#log.warn(
        { code, from, total: this.#malformed },
        'ignored a datagram that is not a valid dongle message',
      );
    }
  }
}
