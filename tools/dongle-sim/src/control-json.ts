import type { CanConfig } from '@canopy/remp';
import type { Dongle } from './dongle';
import type { IdStats, SinkReport } from './sink';
import type { TrafficStatus } from './traffic-runner';

/* How the control interface shows the simulator's state: snake_case JSON, bytes as hex, times as epoch ms. */

const hex = (bytes: Uint8Array) => Buffer.from(bytes).toString('hex');

export function summaryJson(d: Dongle) {
  const pairing = d.pairing.snapshot();
  return {
    index: d.identity.index,
    device_id: d.deviceId,
    udp_port: d.port,
    paired: d.paired,
    pairing_state: pairing.phase,
    remote: d.remote ?? null,
  };
}

export function dongleJson(d: Dongle) {
  const v = d.view();
  const p = v.pairing;
  return {
    index: d.identity.index,
    device_id: v.deviceId,
    fw_build: v.fwBuild,
    fw_build_number: v.fwBuildNumber,
    lan_ip: v.lanIp,
    udp_port: v.udpPort,
    paired: v.paired,
    secret_fingerprint: v.secretFingerprint,
    pairing: {
      state: p.phase,
      pin: p.pin ?? null,
      pairing_nonce: p.nonce ? hex(p.nonce) : null,
      seconds_left: p.phase === 'pairing' ? p.secondsLeft : 0,
      wrong_pins: p.wrongPins,
      cooldown_seconds_left: p.phase === 'cooldown' ? p.secondsLeft : 0,
    },
    remote: v.remote
      ? { address: v.remote.address, port: v.remote.port, last_seen_at: v.remote.lastSeenAt }
      : null,
    can_config: canConfigJson(v.canConfig),
    counters: v.counters,
    per_id: v.perId,
    knobs: {
      cli_delay_ms: d.knobs.cliDelayMs,
      pad_bytes: d.knobs.padBytes,
      can_config_fail_next: d.knobs.failNextApply,
    },
    traffic: trafficJson(d.bus.trafficStatus()),
    uptime_ms: v.now - v.startedAt,
  };
}

export function canConfigJson(c: CanConfig) {
  return {
    bitrate: c.bitrate,
    sample_point_permille: c.samplePointPermille,
    prescaler: c.prescaler,
    sjw: c.sjw,
    tseg1: c.tseg1,
    tseg2: c.tseg2,
    mode: c.mode,
    use_raw: c.flags.useRaw,
    auto_retx: c.flags.autoRetx,
    tx_pause: c.flags.txPause,
    protocol_exc: c.flags.protocolExc,
  };
}

export function trafficJson(s: TrafficStatus) {
  return {
    running: s.running,
    stopped_by: s.stoppedBy ?? null,
    target_rate: s.targetRate,
    planned: s.planned ?? null,
    sent: s.sent,
    elapsed_ms: s.elapsedMs,
    achieved_rate: s.achievedRate,
  };
}

const idStatsJson = (s: IdStats) => ({
  frames: s.frames,
  sequenced: s.sequenced,
  first_seq: s.firstSeq ?? null,
  last_seq: s.lastSeq ?? null,
  gaps: s.gaps,
  missing: s.missing,
  duplicates: s.duplicates,
  out_of_order: s.outOfOrder,
});

export function sinkJson(r: SinkReport) {
  return {
    frames: r.frames,
    gaps: r.totals.gaps,
    missing: r.totals.missing,
    duplicates: r.totals.duplicates,
    out_of_order: r.totals.outOfOrder,
    first_at: r.firstAt ?? null,
    last_at: r.lastAt ?? null,
    per_id: Object.fromEntries(Object.entries(r.perId).map(([id, s]) => [id, idStatsJson(s)])),
    recent: r.recent,
  };
}
