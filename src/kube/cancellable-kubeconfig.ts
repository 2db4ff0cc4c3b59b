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
import * as k8s from "@kubernetes/client-node";
import { currentSignal, kubeRequestTimeoutMs, throwIfCancelled } from "../runtime/cancellation.js";

export class CancellableKubeConfig extends k8s.KubeConfig {
  constructor(private readonly requestTimeoutMs: number = kubeRequestTimeoutMs()) {
    super();
  }

  override async applySecurityAuthentication(context: k8s.RequestContext): Promise<void> {
    const describe = (): string => `${context.getHttpMethod()} ${new URL(context.getUrl()).pathname}`;
    throwIfCancelled(describe());
    await super.applySecurityAuthentication(context);
    // Checked again: fetching credentials (an exec plugin, an EKS token) may have taken a while.
    throwIfCancelled(describe());
    const timeout = AbortSignal.timeout(this.requestTimeoutMs);
    const parent = currentSignal();
    context.setSignal(parent === undefined ? timeout : AbortSignal.any([parent, timeout]));
  }
}
