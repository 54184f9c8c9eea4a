/** ws(s)://<cloud>/ws/data: the cloud's base URL with http → ws, https → wss. */
export function dataWsUrl(cloudUrl: string): string {
  const u = new URL(cloudUrl);
  u.protocol = u.protocol === 'https:' ? 'wss:' : 'ws:';
  u.pathname = `${u.pathname.replace(/\/+$/, '')}/ws/data`;
  u.search = '';
  u.hash = '';
  u.username = '';
  u.password = '';
  return u.toString();
}
