// AWS faults for the operator alone: one fault proxy in front of moto and one in front of the EKS
// emulator. Pass `env` to startOperatorProcess; the tests and the harness keep using the sandbox's
// own endpoints, so what they check is never itself throttled or reset.
import { startFaultProxy, type FaultProxy, type FaultProxyStats, type FaultRatesByService } from "../../sandbox/faults/http-proxy.js";
import { sandboxEnv } from "./global-sandbox.js";

export interface AwsFaultsOptions {
  /** One seed for both proxies (each mixes in its own name, so their draws differ). */
  seed: string | number;
  rates: FaultRatesByService;
  hangMs?: number;
  delayMs?: number | readonly [number, number];
}

export interface AwsFaults {
  /**
   * For the operator's environment: AWS_ENDPOINT_URL and AWS_ENDPOINT_URL_EKS point at the
   * proxies. AWS_ENDPOINT_URL_STS stays on moto: an EKS token carries the STS host it was signed
   * for, and the emulator's authenticator accepts only moto's own address.
   */
  env: { AWS_ENDPOINT_URL: string; AWS_ENDPOINT_URL_EKS: string; AWS_ENDPOINT_URL_STS: string };
  moto: FaultProxy;
  eks: FaultProxy;
  /** Sets the rates of both proxies. */
  setRates(rates: FaultRatesByService): void;
  /** Holds every AWS request of the operator until resume(). */
  pause(): void;
  resume(): void;
  stats(): { moto: FaultProxyStats; eks: FaultProxyStats };
  close(): Promise<void>;
}

export async function startAwsFaults(options: AwsFaultsOptions): Promise<AwsFaults> {
  const env = sandboxEnv();
  const common = { rates: options.rates, hangMs: options.hangMs, delayMs: options.delayMs };
  const moto = await startFaultProxy({ ...common, target: env.awsEndpointUrl, seed: `${options.seed}/moto`, name: "moto" });
  let eks: FaultProxy;
  try {
    eks = await startFaultProxy({ ...common, target: env.eksEndpointUrl, seed: `${options.seed}/eks`, name: "eks" });
  } catch (error) {
    await moto.close();
    throw error;
  }
  const both = [moto, eks];
  return {
    env: { AWS_ENDPOINT_URL: moto.url, AWS_ENDPOINT_URL_EKS: eks.url, AWS_ENDPOINT_URL_STS: env.awsEndpointUrl },
    moto,
    eks,
    setRates: (rates) => both.forEach((proxy) => proxy.setRates(rates)),
    pause: () => both.forEach((proxy) => proxy.pause()),
    resume: () => both.forEach((proxy) => proxy.resume()),
    stats: () => ({ moto: moto.stats(), eks: eks.stats() }),
    close: async () => {
      await Promise.all(both.map((proxy) => proxy.close()));
    },
  };
}
