/**
 * A TCP proxy for network faults below HTTP: a replica's link to the API server or to AWS can be
 * paused (a partition), resumed, or reset.
 *
 * - pause(): connections stay open and new ones are accepted, but no byte is forwarded in either
 *   direction. What arrives meanwhile is held. This is what a silently dead path looks like to a
 *   client: no error, no answer, until its own timeout fires.
 * - resume(): held bytes are delivered in order and forwarding goes on.
 * - reset(): every open connection is torn down with a TCP RST (held bytes are dropped).
 * - close(): stops listening and tears everything down.
 *
 * A connection one side closes while paused is torn down on the other side without its held
 * bytes: a client that gave up on a request (an aborted call) does not see it delivered once the
 * partition heals. Real TCP could still deliver such bytes if the path came back before the
 * retransmissions ran out; tests that need that case should not resume.
 *
 * Self-contained on purpose (node:net only): tests start it in-process in front of any endpoint.
 */
import { createConnection, createServer, type AddressInfo, type Server, type Socket } from "node:net";

export interface TcpProxyOptions {
  /** Where connections go, e.g. { host: "127.0.0.1", port: 6443 }. */
  target: { host: string; port: number };
  /** Default 127.0.0.1. */
  listenHost?: string;
  /** Default 0: a free port. */
  listenPort?: number;
}

export interface TcpProxyStats {
  /** Connections accepted since start. */
  accepted: number;
  /** Connections open now. */
  open: number;
  /** Bytes delivered to the target, and back to clients. */
  bytesUp: number;
  bytesDown: number;
  /** Bytes held while paused and not yet delivered or dropped. */
  held: number;
}

export interface TcpProxy {
  readonly host: string;
  readonly port: number;
  /** "host:port" of the proxy, to put in a URL. */
  readonly address: string;
  paused(): boolean;
  pause(): void;
  resume(): void;
  reset(): void;
  stats(): TcpProxyStats;
  close(): Promise<void>;
}

/** One side of a proxied connection: what it is, and what waits to be written to it. */
interface Side {
  socket: Socket;
  held: Buffer[];
}

interface Link {
  client: Side;
  upstream: Side;
  closed: boolean;
}

export async function startTcpProxy(options: TcpProxyOptions): Promise<TcpProxy> {
  const links = new Set<Link>();
  let isPaused = false;
  const stats = { accepted: 0, bytesUp: 0, bytesDown: 0 };

  const heldBytes = (): number => [...links].reduce((sum, link) => sum + [...link.client.held, ...link.upstream.held].reduce((size, chunk) => size + chunk.length, 0), 0);

  const teardown = (link: Link, hard: boolean): void => {
    if (link.closed) return;
    link.closed = true;
    links.delete(link);
    for (const side of [link.client, link.upstream]) {
      side.held = [];
      if (hard && typeof side.socket.resetAndDestroy === "function" && !side.socket.destroyed) side.socket.resetAndDestroy();
      else side.socket.destroy();
    }
  };

  const deliver = (to: Side, chunk: Buffer, up: boolean): void => {
    to.socket.write(chunk);
    if (up) stats.bytesUp += chunk.length;
    else stats.bytesDown += chunk.length;
  };

  const forward = (link: Link, from: Side, to: Side, up: boolean): void => {
    from.socket.on("data", (chunk: Buffer) => {
      if (link.closed) return;
      if (isPaused) to.held.push(chunk);
      else deliver(to, chunk, up);
    });
    from.socket.on("end", () => {
      // Half-close passes through only when nothing is held; while paused the other side is torn
      // down instead, so the held bytes are never delivered late.
      if (link.closed) return;
      if (isPaused) teardown(link, false);
      else to.socket.end();
    });
    from.socket.on("close", () => teardown(link, false));
    from.socket.on("error", () => teardown(link, false));
  };

  const server: Server = createServer((client) => {
    stats.accepted++;
    const upstream = createConnection({ host: options.target.host, port: options.target.port });
    const link: Link = { client: { socket: client, held: [] }, upstream: { socket: upstream, held: [] }, closed: false };
    links.add(link);
    forward(link, link.client, link.upstream, true);
    forward(link, link.upstream, link.client, false);
  });
  const listenHost = options.listenHost ?? "127.0.0.1";
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(options.listenPort ?? 0, listenHost, () => {
      server.off("error", reject);
      resolve();
    });
  });
  const { port } = server.address() as AddressInfo;

  return {
    host: listenHost,
    port,
    address: `${listenHost}:${port}`,
    paused: () => isPaused,
    pause() {
      isPaused = true;
    },
    resume() {
      isPaused = false;
      for (const link of [...links]) {
        for (const [to, up] of [[link.upstream, true], [link.client, false]] as const) {
          for (const chunk of to.held.splice(0)) deliver(to, chunk, up);
        }
      }
    },
    reset() {
      for (const link of [...links]) teardown(link, true);
    },
    stats: () => ({ ...stats, open: links.size, held: heldBytes() }),
    async close() {
      for (const link of [...links]) teardown(link, true);
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
