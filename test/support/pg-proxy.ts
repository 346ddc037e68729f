import net from 'node:net';

type Mode = 'open' | 'frozen' | 'refusing';

interface Pair {
  client: net.Socket;
  server: net.Socket;
  /** Bytes held back while frozen, per direction, forwarded in order on restore. */
  toServer: Buffer[];
  toClient: Buffer[];
  /** A side closed its end while frozen: the other side learns it on restore. */
  endedWhileFrozen: boolean;
}

/**
 * A TCP proxy in front of the test's PostgreSQL, so a test can simulate an outage without
 * touching the shared server. Point an app's DATABASE_URL at `url`, boot it, then:
 * - `refuse()`: drops every connection and refuses new ones (ECONNREFUSED), like a server
 *   that is down;
 * - `freeze()`: keeps every socket open and accepts new ones but forwards nothing, like a
 *   server that hangs (it does not even answer a closing connection's FIN); the held bytes
 *   flow on `restore()`, as when a stalled server resumes;
 * - `restore()`: back to forwarding.
 */
export class PgProxy {
  private mode: Mode = 'open';
  private readonly pairs = new Set<Pair>();
  private server: net.Server | undefined;
  private port = 0;

  private constructor(
    private readonly upstreamHost: string,
    private readonly upstreamPort: number,
  ) {}

  /** Starts a proxy to the server of `databaseUrl` (default: the run's test database). */
  static async start(databaseUrl = process.env.DATABASE_URL): Promise<PgProxy> {
    if (!databaseUrl) throw new Error('PgProxy needs DATABASE_URL (set by global setup)');
    const upstream = new URL(databaseUrl);
    const proxy = new PgProxy(upstream.hostname || '127.0.0.1', Number(upstream.port || 5432));
    proxy.databaseUrl = databaseUrl;
    await proxy.listen();
    return proxy;
  }

  private databaseUrl = '';

  /** The test database's URL, through this proxy. */
  get url(): string {
    const url = new URL(this.databaseUrl);
    url.hostname = '127.0.0.1';
    url.port = String(this.port);
    return url.toString();
  }

  /** Connections currently open through the proxy. */
  get connections(): number {
    return this.pairs.size;
  }

  refuse(): Promise<void> {
    this.mode = 'refusing';
    for (const pair of this.pairs) this.drop(pair);
    const server = this.server;
    this.server = undefined;
    return new Promise((resolve) => (server ? server.close(() => resolve()) : resolve()));
  }

  freeze(): void {
    this.mode = 'frozen';
  }

  async restore(): Promise<void> {
    const wasRefusing = this.mode === 'refusing';
    this.mode = 'open';
    if (wasRefusing) await this.listen();
    for (const pair of this.pairs) {
      for (const chunk of pair.toServer.splice(0)) pair.server.write(chunk);
      for (const chunk of pair.toClient.splice(0)) pair.client.write(chunk);
      if (pair.endedWhileFrozen) this.drop(pair);
    }
  }

  async close(): Promise<void> {
    for (const pair of this.pairs) this.drop(pair);
    const server = this.server;
    this.server = undefined;
    await new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve()));
  }

  private listen(): Promise<void> {
    // Half-open allowed, so a frozen proxy does not answer a client's FIN by itself.
    const server = net.createServer({ allowHalfOpen: true }, (client) => this.accept(client));
    this.server = server;
    return new Promise((resolve, reject) => {
      server.once('error', reject);
      // The same port again after refuse(), so the app's DATABASE_URL stays valid.
      server.listen(this.port, '127.0.0.1', () => {
        this.port = (server.address() as net.AddressInfo).port;
        resolve();
      });
    });
  }

  private accept(client: net.Socket): void {
    const server = net.connect(this.upstreamPort, this.upstreamHost);
    const pair: Pair = { client, server, toServer: [], toClient: [], endedWhileFrozen: false };
    this.pairs.add(pair);
    const forward = (from: net.Socket, to: net.Socket, held: Buffer[]) => {
      from.on('data', (chunk: Buffer) => {
        if (this.mode === 'frozen' || held.length > 0) held.push(chunk);
        else to.write(chunk);
      });
      from.on('end', () => {
        if (this.mode === 'frozen') pair.endedWhileFrozen = true;
        else this.drop(pair);
      });
      from.on('error', () => this.drop(pair));
      from.on('close', () => this.drop(pair));
    };
    forward(client, server, pair.toServer);
    forward(server, client, pair.toClient);
  }

  private drop(pair: Pair): void {
    if (!this.pairs.delete(pair)) return;
    pair.client.destroy();
    pair.server.destroy();
  }
}
