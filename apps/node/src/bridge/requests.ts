import type {
  CanConfig,
  DongleOp,
  DongleRequestMessage,
  DongleResponseMessage,
  DongleResult,
} from '@canopy/protocol';
import { FLAG_AUTH_REJECTED, type CanConfig as WireCanConfig } from '@canopy/remp';
import type { Logger } from 'pino';
import type { DongleRegistry } from './registry';
import { type RempClient, RempTimeoutError } from './remp-client';

type Outcome = DongleResponseMessage['outcome'];

/**
 * Carries out one request of the cloud on a dongle this node sees (spec 002 §11, §14, §16): the matching
 * REMP exchange, its answer in the protocol's shape. Tokens and PINs stay in this call: never logged, never
 * stored.
 */
export async function handleDongleRequest(
  deps: { registry: DongleRegistry; remp: RempClient; log: Logger; enabled: boolean },
  message: DongleRequestMessage,
): Promise<Outcome> {
  const { registry, remp, log } = deps;
  const { request, device_id: deviceId } = message;
  if (!deps.enabled) return failure('DISCOVERY_OFF', 'dongle discovery is off on this node');
  const target = registry.target(deviceId);
  if (!target) return failure('DONGLE_UNKNOWN', 'this node does not see that dongle');
  const started = Date.now();
  try {
    const result = await perform(remp, target, deviceId, request);
    log.info(
      {
        request_id: message.request_id,
        device_id: deviceId,
        op: request.op,
        status: result.status,
        ms: Date.now() - started,
      },
      'dongle request done',
    );
    return { ok: true, result };
  } catch (err) {
    const timeout = err instanceof RempTimeoutError;
    log.warn(
      {
        request_id: message.request_id,
        device_id: deviceId,
        op: request.op,
        err: err instanceof Error ? err.message : String(err),
      },
      'dongle request failed',
    );
    return timeout
      ? failure('DONGLE_TIMEOUT', 'the dongle did not answer in time')
      : failure('NODE_ERROR', err instanceof Error ? err.message.slice(0, 200) : 'the request failed');
  }
}

const failure = (code: Extract<Outcome, { ok: false }>['code'], message: string): Outcome => ({
  ok: false,
  code,
  message,
});

const bytes = (base64: string) => new Uint8Array(Buffer.from(base64, 'base64'));

async function perform(
  remp: RempClient,
  target: { address: string; port: number },
  deviceId: string,
  request: DongleOp,
): Promise<DongleResult> {
  switch (request.op) {
    case 'pairing_start': {
      const answer = await remp.request(
        target,
        remp.message(
          { deviceId, token: new Uint8Array(0) },
          { type: 'pairing', pairing: { action: 'start', corrId: crypto.randomUUID(), seconds: 0 } },
        ),
      );
      if (answer.type !== 'pairing' || answer.pairing.action !== 'ack') throw new Error('not a pairing ACK');
      const nonce = answer.pairing.pairingNonce;
      return {
        op: 'pairing_start',
        status: answer.pairing.status,
        seconds: answer.pairing.seconds,
        pairing_nonce: nonce ? Buffer.from(nonce).toString('base64') : null,
      };
    }
    case 'pairing_submit': {
      const answer = await remp.request(
        target,
        remp.message(
          { deviceId, token: new Uint8Array(0) },
          {
            type: 'pairing',
            pairing: {
              action: 'submit',
              corrId: crypto.randomUUID(),
              seconds: 0,
              pin: request.pin,
              pairingNonce: bytes(request.pairing_nonce),
              token: bytes(request.token),
            },
          },
        ),
      );
      if (answer.type !== 'pairing' || answer.pairing.action !== 'ack') throw new Error('not a pairing ACK');
      return { op: 'pairing_submit', status: answer.pairing.status, seconds: answer.pairing.seconds };
    }
    case 'can_config': {
      const answer = await remp.request(
        target,
        remp.message(
          { deviceId, token: bytes(request.token) },
          {
            type: 'can_config',
            config: { action: request.action, status: 'ok', config: toWire(request.config ?? EMPTY_CONFIG) },
          },
        ),
      );
      if (answer.type !== 'can_config' || answer.config.action !== 'response')
        throw new Error('not a CAN config response');
      return {
        op: 'can_config',
        status: answer.config.status,
        auth_rejected: (answer.flags & FLAG_AUTH_REJECTED) !== 0,
        config: fromWire(answer.config.config),
      };
    }
    case 'command': {
      const result = await remp.command(
        target,
        { deviceId, token: bytes(request.token) },
        request.corr_id,
        request.command,
        request.timeout_ms,
      );
      return {
        op: 'command',
        status: result.status,
        auth_rejected: result.authRejected,
        exit_code: result.exitCode,
        stdout: result.stdout,
        stderr: result.stderr,
        truncated: result.truncated,
      };
    }
  }
}

const EMPTY_CONFIG: CanConfig = {
  bitrate: 0,
  sample_point_permille: 0,
  mode: 'normal',
  use_raw: false,
  prescaler: 0,
  sjw: 0,
  tseg1: 0,
  tseg2: 0,
  auto_retx: false,
  tx_pause: false,
  protocol_exc: false,
};

function toWire(c: CanConfig): WireCanConfig {
  return {
    bitrate: c.bitrate,
    samplePointPermille: c.sample_point_permille,
    prescaler: c.prescaler,
    sjw: c.sjw,
    tseg1: c.tseg1,
    tseg2: c.tseg2,
    mode: c.mode,
    flags: { useRaw: c.use_raw, autoRetx: c.auto_retx, txPause: c.tx_pause, protocolExc: c.protocol_exc },
  };
}

function fromWire(c: WireCanConfig): CanConfig {
  return {
    bitrate: c.bitrate,
    sample_point_permille: c.samplePointPermille,
    mode: c.mode,
    use_raw: c.flags.useRaw,
    prescaler: c.prescaler,
    sjw: c.sjw,
    tseg1: c.tseg1,
    tseg2: c.tseg2,
    auto_retx: c.flags.autoRetx,
    tx_pause: c.flags.txPause,
    protocol_exc: c.flags.protocolExc,
  };
}
