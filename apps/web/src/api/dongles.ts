import type { DongleResponse, DonglesResponse, ScanResponse } from '@canopy/protocol';
import { api } from './client';

/** The user's dongles and the unclaimed ones their nodes see, and the request that sets the nodes looking. */
export const donglesApi = {
  list: (signal?: AbortSignal) => api.get<DonglesResponse>('/dongles', undefined, signal),
  get: (id: string, signal?: AbortSignal) =>
    api.get<DongleResponse>(`/dongles/${encodeURIComponent(id)}`, undefined, signal),
  /** The user's online nodes scan now and every few seconds for the next 30 s. */
  scan: () => api.post<ScanResponse>('/dongles/scan'),
};
