/**
 * libpq environment variables for a `postgres://` URL, so pg_dump and pg_restore get the password through
 * their environment (PGPASSWORD) instead of a command line that `ps` shows to every user.
 */
export function pgConnectionEnv(databaseUrl: string): Record<string, string> {
  const u = new URL(databaseUrl);
  const env: Record<string, string> = {};
  // A `host` parameter wins, as in libpq: postgres://u@localhost/db?host=/run/postgresql is a Unix socket.
  const host = u.searchParams.get('host') || decodeURIComponent(u.hostname).replace(/^\[(.*)\]$/, '$1');
  if (host) env.PGHOST = host;
  if (u.port) env.PGPORT = u.port;
  if (u.username) env.PGUSER = decodeURIComponent(u.username);
  if (u.password) env.PGPASSWORD = decodeURIComponent(u.password);
  const database = decodeURIComponent(u.pathname.replace(/^\//, ''));
  if (database) env.PGDATABASE = database;
  const sslmode = u.searchParams.get('sslmode');
  if (sslmode) env.PGSSLMODE = sslmode;
  return env;
}
