import type { AddressInfo } from "node:net";
import { connect, createServer, type Server, type Socket } from "node:net";

/**
 * A loopback TCP proxy in front of the Worker, so a test can cut every open
 * connection for real (both sockets destroyed, as a network failure would)
 * while the Worker keeps running.
 */
export class TcpProxy {
  readonly #server: Server;
  readonly #sockets = new Set<Socket>();
  /** Connections accepted so far. */
  connections = 0;

  private constructor(server: Server) {
    this.#server = server;
  }

  static async start(targetPort: number): Promise<TcpProxy> {
    const server = createServer();
    const proxy = new TcpProxy(server);
    server.on("connection", (client) => {
      proxy.connections++;
      const upstream = connect(targetPort, "127.0.0.1");
      for (const s of [client, upstream]) {
        proxy.#sockets.add(s);
        s.on("close", () => proxy.#sockets.delete(s));
        s.on("error", () => {
          client.destroy();
          upstream.destroy();
        });
      }
      client.pipe(upstream);
      upstream.pipe(client);
    });
    await new Promise<void>((resolve, reject) => {
      server.once("error", reject);
      server.listen(0, "127.0.0.1", resolve);
    });
    return proxy;
  }

  get url(): string {
    return `http://127.0.0.1:${(this.#server.address() as AddressInfo).port}`;
  }

  /** Cuts every open connection with a reset. */
  dropAll(): number {
    const n = this.#sockets.size;
    for (const s of this.#sockets) s.resetAndDestroy();
    return n;
  }

  async close(): Promise<void> {
    this.dropAll();
    await new Promise<void>((resolve) => this.#server.close(() => resolve()));
  }
}
