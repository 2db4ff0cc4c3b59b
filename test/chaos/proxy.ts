// Connects the chaos runner to the sandbox's AWS fault proxies (test/support/faults.ts): one in
// front of moto, one in front of the EKS emulator, started per condition with its seed.
import type { FaultRates, FaultRatesByService } from "../../sandbox/faults/http-proxy.js";
import { startAwsFaults } from "../support/faults.js";
import type { FaultMix } from "./conditions.js";
import type { FaultFactory } from "./faults.js";

/**
 * The proxies' rates for a mix, for every service alike. Server errors are half 500, half 503;
 * resets half before the backend sees the request, half after it acted on it.
 */
export function proxyRates(mix: FaultMix): FaultRatesByService {
  const rates: FaultRates = {
    throttle: mix.throttle,
    error500: mix.serverError / 2,
    error503: mix.serverError / 2,
    reset: mix.reset / 2,
    resetAfter: mix.reset / 2,
    hang: mix.hang,
  };
  return { default: rates };
}

/** Starts the fault proxies of a condition. */
export function faultFactory(): FaultFactory {
  return async (seed, mix) => {
    const faults = await startAwsFaults({ seed, rates: proxyRates(mix) });
    return {
      env: { ...faults.env },
      setMix: (next) => faults.setRates(proxyRates(next)),
      counts: () => {
        const { moto, eks } = faults.stats();
        const injected: Record<string, number> = {};
        for (const stats of [moto, eks]) for (const [kind, count] of Object.entries(stats.byKind)) injected[kind] = (injected[kind] ?? 0) + (count ?? 0);
        return { requests: moto.requests + eks.requests, injected };
      },
      close: () => faults.close(),
    };
  };
}
