// The HTTP probe gate over Node's fetch: one GET, bounded by the probe's timeout, never throwing.
import { describeError } from "../util/errors.js";
import type { HttpProbe } from "./gates.js";

export const fetchProbe: HttpProbe = async (url, timeoutMs) => {
  try {
    const response = await fetch(url, { method: "GET", redirect: "manual", signal: AbortSignal.timeout(timeoutMs) });
    // The body is not read: drop it so the connection is released.
    await response.body?.cancel();
    return { status: response.status };
  } catch (error) {
    if (error instanceof Error && (error.name === "TimeoutError" || error.name === "AbortError")) return { error: `no answer within ${timeoutMs / 1000}s` };
    return { error: `request failed: ${describeError(error)}` };
  }
};
