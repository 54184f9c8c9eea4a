#!/usr/bin/env node
// Reads DATABASE_URL from the environment; writes its password (if any) to the .pgpass file named by the
// first argument (mode 0600) and prints PGHOST/PGPORT/PGUSER/PGDATABASE/PGSSLMODE lines for the shell,
// so pg_dump and pg_restore never see the password on their command line. Mirrors apps/cloud/src/backup/pg-env.ts.
import fs from 'node:fs';

const [pgpass] = process.argv.slice(2);
const raw = process.env.DATABASE_URL;
if (!raw || !pgpass) {
  process.stderr.write('pg-env.mjs: DATABASE_URL must be set and a .pgpass path given\n');
  process.exit(2);
}
let u;
try {
  u = new URL(raw);
} catch {
  process.stderr.write('pg-env.mjs: DATABASE_URL is not a URL (value not shown)\n');
  process.exit(2);
}
if (u.protocol !== 'postgres:' && u.protocol !== 'postgresql:') {
  process.stderr.write('pg-env.mjs: DATABASE_URL must start with postgres:// or postgresql://\n');
  process.exit(2);
}
const vars = {
  PGHOST: u.searchParams.get('host') || decodeURIComponent(u.hostname).replace(/^\[(.*)\]$/, '$1'),
  PGPORT: u.port,
  PGUSER: decodeURIComponent(u.username),
  PGDATABASE: decodeURIComponent(u.pathname.replace(/^\//, '')),
  PGSSLMODE: u.searchParams.get('sslmode') ?? '',
};
for (const [k, v] of Object.entries(vars)) {
  if (/[\n\r]/.test(v)) {
    process.stderr.write(`pg-env.mjs: ${k} from DATABASE_URL contains a line break\n`);
    process.exit(2);
  }
  if (v) process.stdout.write(`${k}=${v}\n`);
}
const esc = (s) => s.replace(/\\/g, '\\\\').replace(/:/g, '\\:');
const password = decodeURIComponent(u.password);
fs.writeFileSync(pgpass, password ? `*:*:*:*:${esc(password)}\n` : '', { mode: 0o600 });
fs.chmodSync(pgpass, 0o600);
