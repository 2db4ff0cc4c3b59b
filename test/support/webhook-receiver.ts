// A webhook receiver on loopback for notification tests: it answers 200 to every POST and keeps
// what came, with the Idempotency-Key header. Its path carries a random token, so that the URL is
// a secret worth keeping out of logs.
import { randomBytes } from "node:crypto";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";

export interface ReceivedNotification {
  header: string | undefined;
  body: { idempotencyKey?: string; phase?: string; previousPhase?: string; clusterUpgrade?: string; [field: string]: unknown };
  at: number;
}

export class WebhookReceiver {
  private constructor(
    private readonly server: Server,
    /** The random path token, part of the URL. */
    readonly token: string,
    /** What came, in order. */
    readonly received: ReceivedNotification[],
  ) {}

  static async start(): Promise<WebhookReceiver> {
    const token = randomBytes(16).toString("hex");
    const received: ReceivedNotification[] = [];
    const server = createServer((request, response) => {
      let raw = "";
      request.on("data", (chunk: Buffer) => (raw += chunk.toString()));
      request.on("end", () => {
        if (request.method !== "POST" || request.url !== `/hooks/${token}`) {
          response.statusCode = 404;
          response.end();
          return;
        }
        const header = request.headers["idempotency-key"];
        let body: ReceivedNotification["body"];
        try {
          body = JSON.parse(raw) as ReceivedNotification["body"];
        } catch {
          response.statusCode = 400;
          response.end();
          return;
        }
        received.push({ header: Array.isArray(header) ? header[0] : header, body, at: Date.now() });
        response.end();
      });
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    return new WebhookReceiver(server, token, received);
  }

  get url(): string {
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}/hooks/${this.token}`;
  }

  /** What came for one ClusterUpgrade (namespace/name). */
  for(clusterUpgrade: string): ReceivedNotification[] {
    return this.received.filter((entry) => entry.body.clusterUpgrade === clusterUpgrade);
  }

  async close(): Promise<void> {
    await new Promise((resolve) => this.server.close(resolve));
  }
}
