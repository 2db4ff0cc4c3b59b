// The sandbox's TCP fault proxy in front of a local echo server.
import assert from "node:assert/strict";
import { createConnection, createServer, type AddressInfo, type Server, type Socket } from "node:net";
import { startTcpProxy, type TcpProxy } from "../../../sandbox/faults/tcp-proxy.js";
import { waitUntil } from "../../support/wait.js";

interface Echo {
  port: number;
  /** Everything the server received, over all connections. */
  received(): string;
  /** Connections the server saw close. */
  closed: number;
  /** Writes `text` to every open connection. */
  push(text: string): void;
  close(): Promise<void>;
}

async function echoServer(): Promise<Echo> {
  let received = "";
  const state = { closed: 0 };
  const sockets = new Set<Socket>();
  const server: Server = createServer((socket) => {
    sockets.add(socket);
    socket.on("data", (chunk: Buffer) => {
      received += chunk.toString();
      socket.write(chunk);
    });
    socket.on("error", () => undefined);
    socket.on("close", () => {
      state.closed++;
      sockets.delete(socket);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return {
    port: (server.address() as AddressInfo).port,
    received: () => received,
    push: (text) => {
      for (const socket of sockets) socket.write(text);
    },
    get closed() {
      return state.closed;
    },
    close: () => {
      for (const socket of sockets) socket.destroy();
      return new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

interface Client {
  socket: Socket;
  data(): string;
  ended: Promise<string>;
}

async function connect(proxy: TcpProxy): Promise<Client> {
  const socket = createConnection({ host: proxy.host, port: proxy.port });
  let data = "";
  socket.on("data", (chunk: Buffer) => (data += chunk.toString()));
  const ended = new Promise<string>((resolve) => {
    socket.on("error", (error: NodeJS.ErrnoException) => resolve(error.code ?? error.message));
    socket.on("close", () => resolve("closed"));
  });
  await new Promise<void>((resolve) => socket.once("connect", () => resolve()));
  return { socket, data: () => data, ended };
}

const quick = { timeoutMs: 5_000, intervalMs: 10 };
const until = <T>(what: string, probe: () => T | undefined | false): Promise<T> => waitUntil(what, () => Promise.resolve(probe()), quick.timeoutMs, quick.intervalMs);

describe("TCP fault proxy", () => {
  let echo: Echo;
  let proxy: TcpProxy;
  beforeEach(async () => {
    echo = await echoServer();
    proxy = await startTcpProxy({ target: { host: "127.0.0.1", port: echo.port } });
  });
  afterEach(async () => {
    await proxy.close();
    await echo.close();
  });

  it("forwards both ways", async () => {
    const client = await connect(proxy);
    client.socket.write("hello");
    await until("the echo", () => client.data() === "hello");
    assert.deepEqual(proxy.stats(), { accepted: 1, open: 1, bytesUp: 5, bytesDown: 5, held: 0 });
    client.socket.destroy();
  });

  it("pause holds bytes in both directions on open connections, resume delivers them in order", async () => {
    const client = await connect(proxy);
    client.socket.write("a");
    await until("the first echo", () => client.data() === "a");
    proxy.pause();
    client.socket.write("bc");
    await until("the proxy to hold the bytes", () => proxy.stats().held === 2);
    assert.equal(echo.received(), "a", "nothing reached the server while paused");
    const late = await connect(proxy);
    late.socket.write("d");
    await until("the proxy to hold the new connection's byte", () => proxy.stats().held === 3);
    assert.equal(echo.received(), "a", "a connection opened while paused is accepted but silent");
    proxy.resume();
    await until("the held bytes to be echoed", () => client.data() === "abc" && late.data() === "d");
    assert.equal(proxy.stats().held, 0);
    client.socket.destroy();
    late.socket.destroy();
  });

  it("holds what the server sends while paused, too", async () => {
    const client = await connect(proxy);
    client.socket.write("x");
    await until("the echo", () => client.data() === "x");
    proxy.pause();
    echo.push("from the server");
    await until("the proxy to hold the server's bytes", () => proxy.stats().held === "from the server".length);
    assert.equal(client.data(), "x");
    proxy.resume();
    await until("the server's bytes", () => client.data() === "xfrom the server");
    client.socket.destroy();
  });

  it("a client that gives up while paused never has its held bytes delivered", async () => {
    const client = await connect(proxy);
    client.socket.write("1");
    await until("the echo", () => client.data() === "1");
    proxy.pause();
    client.socket.write("2");
    await until("the proxy to hold it", () => proxy.stats().held === 1);
    client.socket.destroy();
    await until("the server to see the connection close", () => echo.closed === 1);
    proxy.resume();
    assert.equal(proxy.stats().open, 0);
    assert.equal(echo.received(), "1");
  });

  it("reset tears down every connection; new ones work", async () => {
    const first = await connect(proxy);
    const second = await connect(proxy);
    first.socket.write("p");
    await until("the echo", () => first.data() === "p");
    proxy.reset();
    assert.deepEqual(await Promise.all([first.ended, second.ended]), ["ECONNRESET", "ECONNRESET"]);
    assert.equal(proxy.stats().open, 0);
    const third = await connect(proxy);
    third.socket.write("q");
    await until("the echo after a reset", () => third.data() === "q");
    third.socket.destroy();
  });

  it("close stops listening", async () => {
    await proxy.close();
    const refused = await new Promise<string>((resolve) => {
      const socket = createConnection({ host: proxy.host, port: proxy.port });
      socket.on("connect", () => resolve("connected"));
      socket.on("error", (error: NodeJS.ErrnoException) => resolve(error.code ?? "error"));
    });
    assert.equal(refused, "ECONNREFUSED");
    proxy = await startTcpProxy({ target: { host: "127.0.0.1", port: echo.port } });
  });
});
