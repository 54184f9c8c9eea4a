import type {
  CreateGroupRequest,
  CreateGroupResponse,
  GroupResponse,
  GroupsResponse,
  SendFramesRequest,
  SendFramesResponse,
} from '@canopy/protocol';
import { api } from './client';

const group = (id: string) => `/groups/${encodeURIComponent(id)}`;

/** The user's two-dongle groups: create one, turn its bridging on and off, delete it, send frames through it. */
export const groupsApi = {
  list: (signal?: AbortSignal) => api.get<GroupsResponse>('/groups', undefined, signal),
  get: (id: string, signal?: AbortSignal) => api.get<GroupResponse>(group(id), undefined, signal),
  /** A new group starts inactive. */
  create: (input: CreateGroupRequest) => api.post<CreateGroupResponse>('/groups', input),
  activate: (id: string) => api.post<GroupResponse>(`${group(id)}/activate`),
  deactivate: (id: string) => api.post<GroupResponse>(`${group(id)}/deactivate`),
  remove: (id: string) => api.delete(group(id)),
  /** Frames onto one side's bus, as if the other side's dongle had read them (409 CONFLICT when inactive). */
  sendFrames: (id: string, body: SendFramesRequest) =>
    api.post<SendFramesResponse>(`${group(id)}/frames`, body),
};
