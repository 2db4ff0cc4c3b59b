/**
 * The KubeConfig every API client of the operator is made from. It gives each request of the
 * generated API clients (makeApiClient) a timeout and the current reconcile's signal, and refuses
 * to send once that signal has fired: the fence that keeps a replica which lost the Lease from
 * writing to any cluster.
 *
 * Why here: client-node 1.4 calls applySecurityAuthentication(requestContext) on the KubeConfig
 * itself (its default auth method) for every request of every API client made from it, just
 * before sending, and RequestContext.setSignal is what its fetch layer aborts on. Overriding that
 * one method covers every client in one place; makeApiClient offers no middleware option.
 *
 * Watches (k8s.Watch) do not pass through here and get no request timeout: they are meant to stay
 * open. The informer bounds them instead (see informer.ts).
 */
import { Agent, type AgentOptions } from "node:https";
import * as k8s from "@kubernetes/client-node";
import { currentSignal, kubeRequestTimeoutMs, throwIfCancelled } from "../runtime/cancellation.js";

/** Distinct TLS settings kept at once: a cluster's CA and client certificate, and one rotation. */
const MAX_AGENTS = 4;
/**
 * An idle kept-alive connection is closed after this long (an agent's timeout closes only free
 * sockets), so that the operator closes idle connections before the API server or a load balancer
 * in front of it does: a request sent on a connection the other side is closing fails.
 */
const IDLE_SOCKET_MS = 30_000;

export class CancellableKubeConfig extends k8s.KubeConfig {
  private readonly agents = new Map<string, Agent>();

  constructor(private readonly requestTimeoutMs: number = kubeRequestTimeoutMs()) {
    super();
  }

  override async applySecurityAuthentication(context: k8s.RequestContext): Promise<void> {
    const describe = (): string => `${context.getHttpMethod()} ${new URL(context.getUrl()).pathname}`;
    throwIfCancelled(describe());
    await super.applySecurityAuthentication(context);
    this.shareAgent(context);
    // Checked again: fetching credentials (an exec plugin, an EKS token) may have taken a while.
    throwIfCancelled(describe());
    const timeout = AbortSignal.timeout(this.requestTimeoutMs);
    const parent = currentSignal();
    context.setSignal(parent === undefined ? timeout : AbortSignal.any([parent, timeout]));
  }

  /**
   * The library makes a new https.Agent for every request, so every request opened its own TLS
   * connection: a handshake for each of the 120 pages of a 60,000-pod preflight and for each of a
   * roll's 600 evictions. Requests with the same TLS settings share one keep-alive agent instead,
   * which keeps connections (and TLS sessions) open between them. Agents of a proxy are left as
   * the library makes them.
   */
  private shareAgent(context: k8s.RequestContext): void {
    const made = context.getAgent();
    if (!(made instanceof Agent) || made.constructor !== Agent) return;
    const options: AgentOptions = made.options;
    const key = JSON.stringify([options.ca, options.cert, options.key, options.pfx, options.passphrase, options.rejectUnauthorized, options.servername].map(keyPart));
    let agent = this.agents.get(key);
    if (!agent) {
      const oldest = this.agents.keys().next();
      if (this.agents.size >= MAX_AGENTS && !oldest.done) {
        this.agents.get(oldest.value)?.destroy();
        this.agents.delete(oldest.value);
      }
      agent = new Agent({ ...options, keepAlive: true, timeout: IDLE_SOCKET_MS });
      this.agents.set(key, agent);
    }
    context.setAgent(agent);
  }
}

/** A TLS option as text for an agent's key: buffers as base64, lists item by item. */
function keyPart(value: unknown): unknown {
  if (Buffer.isBuffer(value)) return value.toString("base64");
  if (Array.isArray(value)) return value.map(keyPart);
  return value ?? null;
}
