import type {
  CanConfigRequest,
  CanConfigResponse,
  Command,
  DongleResponse,
  DonglesResponse,
  PairingModeResponse,
  PairingSubmitResponse,
  ScanResponse,
} from '@canopy/protocol';
import { api } from './client';

const dongle = (id: string) => `/dongles/${encodeURIComponent(id)}`;

/**
 * The user's dongles and the unclaimed ones their nodes see, the request that sets the nodes looking, and
 * what an owner does with one: pair, unpair, configure its CAN bus, run its allowlisted commands.
 */
export const donglesApi = {
  list: (signal?: AbortSignal) => api.get<DonglesResponse>('/dongles', undefined, signal),
  get: (id: string, signal?: AbortSignal) => api.get<DongleResponse>(dongle(id), undefined, signal),
  /** The user's online nodes scan now and every few seconds for the next 30 s. */
  scan: () => api.post<ScanResponse>('/dongles/scan'),

  /** Puts the dongle in pairing mode (≈120 s): it shows a PIN until `expires_at`. */
  startPairing: (id: string) =>
    api.post<PairingModeResponse>(`${dongle(id)}/pairing-mode`, { action: 'start' }),
  submitPin: (id: string, pairingSessionId: string, pin: string) =>
    api.post<PairingSubmitResponse>(`${dongle(id)}/pairing-submit`, {
      pairing_session_id: pairingSessionId,
      pin,
    }),
  unpair: (id: string) => api.post(`${dongle(id)}/unpair`),

  applyCanConfig: (id: string, config: CanConfigRequest) =>
    api.put<CanConfigResponse>(`${dongle(id)}/can-config`, config),

  /** Queues one allowlisted command line, e.g. "remote status"; it runs at once through the node. */
  runCommand: (id: string, line: string) => {
    const [command = '', ...args] = line.trim().split(/\s+/);
    return api.post<Pick<Command, 'command_id' | 'status'>>(`${dongle(id)}/commands`, { command, args });
  },
  /** The last 50 commands, newest first. */
  commands: (id: string, signal?: AbortSignal) =>
    api.get<{ commands: Command[] }>(`${dongle(id)}/commands`, undefined, signal),
  command: (id: string, commandId: string, signal?: AbortSignal) =>
    api.get<Command>(`${dongle(id)}/commands/${encodeURIComponent(commandId)}`, undefined, signal),
};
