import type {
  AgentSummary,
  CreateEnrollmentKeyResponse,
  EnrollmentKeysResponse,
  Task,
  TaskSpec,
} from '@canopy/protocol';
import { api } from './client';

const agent = (id: string) => `/agents/${encodeURIComponent(id)}`;

/** Nodes (agents), their enrollment keys and their tasks, as the logged-in owner sees them. */
export const agentsApi = {
  enrollmentKeys: (signal?: AbortSignal) =>
    api.get<EnrollmentKeysResponse>('/agents/enrollment-keys', undefined, signal),
  createEnrollmentKey: (label: string | undefined) =>
    api.post<CreateEnrollmentKeyResponse>('/agents/enrollment-keys', { label }),
  revokeEnrollmentKey: (id: string) => api.delete(`/agents/enrollment-keys/${encodeURIComponent(id)}`),

  list: (signal?: AbortSignal) => api.get<{ agents: AgentSummary[] }>('/agents', undefined, signal),
  get: (id: string, signal?: AbortSignal) => api.get<{ agent: AgentSummary }>(agent(id), undefined, signal),
  rename: (id: string, name: string) => api.patch<{ agent: AgentSummary }>(agent(id), { name }),
  remove: (id: string) => api.delete(agent(id)),

  createTask: (id: string, spec: TaskSpec) => api.post<{ task: Task }>(`${agent(id)}/tasks`, spec),
  tasks: (id: string, signal?: AbortSignal) =>
    api.get<{ tasks: Task[] }>(`${agent(id)}/tasks`, undefined, signal),
};
