import { type ChildProcess, execFileSync, spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { freePort } from './process';

export const NGINX = '/usr/sbin/nginx';
export const SHIPPED_NGINX_CONF = fileURLToPath(new URL('../../../infra/nginx/canopy.conf', import.meta.url));

/** Why the nginx tests cannot run here, or undefined; in CI nginx must be there (.ci/run installs it). */
export function nginxMissing(): string | undefined {
  if (fs.existsSync(NGINX)) return undefined;
  const reason = `${NGINX} is absent (apt-get install nginx); .ci/run installs it`;
  if (process.env.CI) throw new Error(`CI=true but ${reason}`);
  return reason;
}

/** Replaces `from` in `text` exactly `count` times (all when count is omitted but at least once), or throws. */
function replaceChecked(text: string, from: string | RegExp, to: string, what: string): string {
  const re = typeof from === 'string' ? new RegExp(from.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'), 'g') : from;
  if (!re.test(text)) throw new Error(`infra/nginx/canopy.conf no longer has ${what}; update the test`);
  re.lastIndex = 0;
  return text.replace(re, to);
}

/**
 * The shipped site file with only what ties it to a real host replaced: its listen addresses (127.0.0.1 on
 * free ports), certificate paths, log paths and the upstream's port. Everything else is tested as shipped.
 */
export function siteConfFor(o: {
  upstreamPort: number;
  httpsPort: number;
  httpPort: number;
  cert: string;
  key: string;
  logDir: string;
  ignoreAccelBuffering?: boolean;
}): string {
  let conf = fs.readFileSync(SHIPPED_NGINX_CONF, 'utf8');
  conf = replaceChecked(
    conf,
    /server 127\.0\.0\.1:8080;/g,
    `server 127.0.0.1:${o.upstreamPort};`,
    'the upstream',
  );
  conf = replaceChecked(conf, /listen 443 ssl;/g, `listen 127.0.0.1:${o.httpsPort} ssl;`, 'listen 443');
  conf = replaceChecked(conf, /listen 80;/g, `listen 127.0.0.1:${o.httpPort};`, 'listen 80');
  conf = replaceChecked(conf, /^\s*listen \[::\]:(80|443)( ssl)?;\n/gm, '', 'IPv6 listens');
  conf = replaceChecked(conf, /ssl_certificate\s+\S+;/g, `ssl_certificate ${o.cert};`, 'ssl_certificate');
  conf = replaceChecked(
    conf,
    /ssl_certificate_key\s+\S+;/g,
    `ssl_certificate_key ${o.key};`,
    'ssl_certificate_key',
  );
  conf = replaceChecked(conf, /\/var\/log\/nginx\//g, `${o.logDir}/`, 'log paths');
  // canopy-cloud sends `X-Accel-Buffering: no` on SSE; ignoring it here makes the SSE test depend on the
  // shipped location's own `proxy_buffering off`.
  if (o.ignoreAccelBuffering)
    conf = replaceChecked(
      conf,
      /(\n {4}client_max_body_size [^\n]+\n)/,
      '$1    proxy_ignore_headers X-Accel-Buffering;\n',
      'client_max_body_size in the TLS server',
    );
  return conf;
}

export type RunningNginx = {
  httpsUrl: string;
  httpUrl: string;
  ca: string;
  dir: string;
  errorLog(): string;
  accessLog(): string;
  stop(): Promise<void>;
};

/** `nginx -t` on a generated main config; returns nginx's output (it writes to stderr) and exit status. */
export function nginxTest(dir: string): { status: number | null; output: string } {
  const r = spawnSync(
    NGINX,
    ['-t', '-p', dir, '-c', path.join(dir, 'nginx.conf'), '-e', path.join(dir, 'error.log')],
    {
      encoding: 'utf8',
    },
  );
  return { status: r.status, output: `${r.stdout}${r.stderr}` };
}

/** Debian's nginx in the foreground, with the shipped site file in front of 127.0.0.1:upstreamPort. */
export async function startNginx(upstreamPort: number): Promise<RunningNginx> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'canopy-nginx-'));
  // nginx's workers (user nobody when started as root) write their temp files here.
  fs.chmodSync(dir, 0o755);
  const cert = path.join(dir, 'cert.pem');
  const key = path.join(dir, 'key.pem');
  execFileSync(
    'openssl',
    [
      'req',
      '-x509',
      '-newkey',
      'rsa:2048',
      '-nodes',
      '-days',
      '1',
      '-subj',
      '/CN=localhost',
      '-addext',
      'subjectAltName=IP:127.0.0.1,DNS:localhost',
      '-keyout',
      key,
      '-out',
      cert,
    ],
    { stdio: 'ignore' },
  );
  const [httpsPort, httpPort] = [await freePort(), await freePort()];
  fs.writeFileSync(
    path.join(dir, 'canopy.conf'),
    siteConfFor({ upstreamPort, httpsPort, httpPort, cert, key, logDir: dir, ignoreAccelBuffering: true }),
  );
  fs.writeFileSync(
    path.join(dir, 'nginx.conf'),
    [
      `pid ${dir}/nginx.pid;`,
      `error_log ${dir}/error.log info;`,
      'worker_processes 1;',
      'events { worker_connections 256; }',
      'http {',
      `  access_log ${dir}/access.log;`,
      ...['client_body', 'proxy', 'fastcgi', 'uwsgi', 'scgi'].map(
        (t) => `  ${t}_temp_path ${dir}/${t}_temp;`,
      ),
      `  include ${dir}/canopy.conf;`,
      '}',
      '',
    ].join('\n'),
  );
  const checked = nginxTest(dir);
  if (checked.status !== 0) throw new Error(`nginx -t failed:\n${checked.output}`);
  const child: ChildProcess = spawn(
    NGINX,
    ['-p', dir, '-c', path.join(dir, 'nginx.conf'), '-e', path.join(dir, 'error.log'), '-g', 'daemon off;'],
    { stdio: ['ignore', 'ignore', 'pipe'] },
  );
  let stderr = '';
  child.stderr?.on('data', (d) => {
    stderr += d;
  });
  const httpsUrl = `https://127.0.0.1:${httpsPort}`;
  const deadline = Date.now() + 10_000;
  const net = await import('node:net');
  for (;;) {
    if (child.exitCode !== null) throw new Error(`nginx exited: ${stderr}`);
    const up = await new Promise<boolean>((resolve) => {
      const s = net.connect(httpsPort, '127.0.0.1', () => {
        s.destroy();
        resolve(true);
      });
      s.on('error', () => resolve(false));
    });
    if (up) break;
    if (Date.now() > deadline) throw new Error(`nginx did not listen: ${stderr}`);
    await new Promise((r) => setTimeout(r, 50));
  }
  const read = (f: string) =>
    fs.existsSync(path.join(dir, f)) ? fs.readFileSync(path.join(dir, f), 'utf8') : '';
  return {
    httpsUrl,
    httpUrl: `http://127.0.0.1:${httpPort}`,
    ca: fs.readFileSync(cert, 'utf8'),
    dir,
    errorLog: () => `${read('error.log')}${read('canopy.error.log')}`,
    accessLog: () => read('canopy.access.log'),
    stop: () =>
      new Promise<void>((resolve) => {
        const done = () => {
          fs.rmSync(dir, { recursive: true, force: true });
          resolve();
        };
        if (child.exitCode !== null || child.signalCode !== null) return done();
        child.once('exit', done);
        child.kill('SIGQUIT');
        setTimeout(() => child.kill('SIGKILL'), 5000).unref();
      }),
  };
}
