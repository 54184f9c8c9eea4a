import http from 'node:http';
import https from 'node:https';

/** The part of `fetch` the link uses (the global fetch fits it; tests may pass it). */
export type Fetch = (
  url: string,
  init?: { method?: string; headers?: Record<string, string>; body?: string; signal?: AbortSignal },
) => Promise<{ ok: boolean; status: number; text(): Promise<string> }>;

/** Answers larger than this are refused (the cloud's largest, a poll batch of tasks, is far smaller). */
export const MAX_ANSWER_BYTES = 64 * 1024 * 1024;

/**
 * `fetch` over node:http and node:https. Node 20's global fetch loads undici on its first use, about 11 MiB
 * of resident memory kept for the life of the process: too much for a daemon that sends a heartbeat every
 * 30 s. Errors are node's own (ECONNREFUSED, ETIMEDOUT…) and the abort signal is honoured.
 */
export const httpFetch: Fetch = (url, init = {}) =>
  new Promise((resolve, reject) => {
    const target = new URL(url);
    const client = target.protocol === 'https:' ? https : http;
    const headers: Record<string, string | number> = { ...init.headers };
    if (init.body !== undefined) headers['content-length'] = Buffer.byteLength(init.body);
    const request = client.request(
      target,
      { method: init.method ?? 'GET', headers, signal: init.signal },
      (response) => {
        const chunks: Buffer[] = [];
        let size = 0;
        response.on('data', (chunk: Buffer) => {
          size += chunk.length;
          if (size > MAX_ANSWER_BYTES) {
            response.destroy(new Error(`the answer is larger than ${MAX_ANSWER_BYTES} bytes`));
            return;
          }
          chunks.push(chunk);
        });
        response.on('error', reject);
        response.on('end', () => {
          const status = response.statusCode ?? 0;
          const text = Buffer.concat(chunks).toString('utf8');
          resolve({ ok: status >= 200 && status < 300, status, text: async () => text });
        });
      },
    );
    request.on('error', reject);
    request.end(init.body);
  });
