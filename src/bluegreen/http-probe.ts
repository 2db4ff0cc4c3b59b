// The HTTP probe gate: one GET through the outbound guard (src/net/outbound.ts), bounded by the
// probe's timeout, never throwing. A URL the guard refuses is a failed probe that says why.
import { describeError } from "../util/errors.js";
import { isOutboundRefused, outboundRequest, type OutboundPolicy, type Resolver } from "../net/outbound.js";
import type { HttpProbe } from "./gates.js";

/** Probes answer with a status; a small body limit keeps a hostile endpoint from filling memory. */
const PROBE_MAX_RESPONSE_BYTES = 16 * 1024;

export function guardedProbe(policy: OutboundPolicy, resolver?: Resolver): HttpProbe {
  return async (url, timeoutMs) => {
    try {
      const response = await outboundRequest(policy, url, { method: "GET", field: `spec.blueGreen.gates.httpProbes (${url})`, timeoutMs, maxResponseBytes: PROBE_MAX_RESPONSE_BYTES }, resolver);
      return { status: response.status };
    } catch (error) {
      if (isOutboundRefused(error)) return { error: `refused: ${error.message}` };
      if (error instanceof Error && (error.name === "OutboundTimeoutError" || error.name === "TimeoutError" || error.name === "AbortError")) return { error: `no answer within ${timeoutMs / 1000}s` };
      return { error: `request failed: ${describeError(error)}` };
    }
  };
}
