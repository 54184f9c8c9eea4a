import net from 'node:net';

/**
 * A TCP proxy between canopy-node and the cloud that a test controls, to make network faults for real:
 * - pass: forward everything;
 * - refuse: drop every connection, existing and new (the cloud is unreachable);
 * - no-websocket: plain HTTP passes, WebSocket upgrades are answered 503 (a proxy that breaks WS);
 * - blackhole(): existing connections stay open but carry nothing more (half-open); new ones pass.
 */
export class TcpProxy {
  private server = net.createServer((client) => this.accept(client));
  private readonly links = new Set<{ client: net.Socket; upstream: net.Socket; dead: boolean }>();
  mode: 'pass' | 'refuse' | 'no-websocket' = 'pass';
  port = 0;

  constructor(private readonly targetPort: number) {}

  async listen(): Promise<number> {
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    this.port = (this.server.address() as net.AddressInfo).port;
    return this.port;
  }

  setMode(mode: TcpProxy['mode']): void {
    this.mode = mode;
    if (mode === 'refuse') for (const link of this.links) this.drop(link);
  }

  /** Existing connections go silent in both directions without closing. */
  blackhole(): void {
    for (const link of this.links) {
      link.dead = true;
      link.client.unpipe();
      link.upstream.unpipe();
      link.client.removeAllListeners('data');
      link.upstream.removeAllListeners('data');
      link.client.resume();
      link.upstream.resume();
    }
  }

  get openConnections(): number {
    return this.links.size;
  }

  async close(): Promise<void> {
    for (const link of this.links) this.drop(link);
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private accept(client: net.Socket): void {
    client.on('error', () => {});
    if (this.mode === 'refuse') {
      client.destroy();
      return;
    }
    client.once('data', (first) => {
      if (this.mode === 'no-websocket' && /^upgrade:\s*websocket/im.test(first.toString('latin1'))) {
        client.end('HTTP/1.1 503 Service Unavailable\r\nContent-Length: 0\r\nConnection: close\r\n\r\n');
        return;
      }
      const upstream = net.connect(this.targetPort, '127.0.0.1');
      const link = { client, upstream, dead: false };
      this.links.add(link);
      upstream.on('error', () => this.drop(link));
      client.on('close', () => this.drop(link));
      upstream.on('close', () => this.drop(link));
      upstream.write(first);
      client.pipe(upstream);
      upstream.pipe(client);
    });
  }

  private drop(link: { client: net.Socket; upstream: net.Socket; dead: boolean }): void {
    if (link.dead && this.links.has(link) && !link.client.destroyed && this.mode !== 'refuse') {
      // A blackholed link stays open until the node gives up on it.
      if (!link.upstream.destroyed) link.upstream.destroy();
      return;
    }
    this.links.delete(link);
    link.client.destroy();
    link.upstream.destroy();
  }
}
