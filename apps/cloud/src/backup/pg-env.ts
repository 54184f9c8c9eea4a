/**
 * libpq environment variables for a `postgres://` URL, so pg_dump and pg_restore get the password through
 * their environment (PGPASSWORD) instead of a command line that `ps` shows to every user.
 */
export function pgConnectionEnv(databaseUrl: string): Record<string, string> {
  const u = new URL(databaseUrl);
  const env: Record<string, string> = {};
  const host = decodeURIComponent(u.hostname).replace(/^\[(.*)\]$/, '$1');
  const hostParam = u.searchParams.get('host'); // a Unix socket folder: postgres://u@/db?host=/run/postgresql
  if (host || hostParam) env.PGHOST = host || (hostParam as string);
  if (u.port) env.PGPORT = u.port;
  if (u.username) env.PGUSER = decodeURIComponent(u.username);
  if (u.password) env.PGPASSWORD = decodeURIComponent(u.password);
  const database = decodeURIComponent(u.pathname.replace(/^\//, ''));
  if (database) env.PGDATABASE = database;
  const sslmode = u.searchParams.get('sslmode');
  if (sslmode) env.PGSSLMODE = sslmode;
  return env;
}
