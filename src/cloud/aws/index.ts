// The concrete AWS adapters behind the ports, one set per region. Each adapter's module, and with
// it its AWS SDK client, is loaded on the port's first call: the SDK clients are a third of the
// operator's idle memory (scripts/footprint.ts; docs/benchmarks.md), an operator with no
// ClusterUpgrade needs none of them, and an in-place upgrade never calls Route 53 or CloudWatch.
import type { AutoScalingPort, CloudPorts, CloudPortsFactory, CloudWatchPort, Ec2Port, EksPort, Route53Port } from "../ports.js";

/**
 * A port whose adapter is made on its first call. Every method of a port returns a promise, so
 * waiting for the module first changes nothing for the caller. Loads that fail are not kept: the
 * next call tries again.
 */
export function lazyPort<T extends object>(load: () => Promise<T>): T {
  let loading: Promise<T> | undefined;
  const adapter = (): Promise<T> => {
    loading ??= load().catch((error: unknown) => {
      loading = undefined;
      throw error;
    });
    return loading;
  };
  const methods = new Map<PropertyKey, unknown>();
  return new Proxy({} as T, {
    get(_target, name) {
      // Not a thenable: `await port` must not try to call a "then" method on the adapter.
      if (name === "then") return undefined;
      let method = methods.get(name);
      if (!method) {
        method = async (...args: unknown[]): Promise<unknown> => {
          const loaded = await adapter();
          const member = (loaded as Record<PropertyKey, unknown>)[name];
          if (typeof member !== "function") throw new TypeError(`${String(name)} is not a method of the adapter`);
          return (member as (...parameters: unknown[]) => unknown).apply(loaded, args);
        };
        methods.set(name, method);
      }
      return method;
    },
  });
}

export function awsCloudPortsFactory(): CloudPortsFactory {
  const byRegion = new Map<string, CloudPorts>();
  return (region) => {
    let ports = byRegion.get(region);
    if (!ports) {
      ports = {
        eks: lazyPort<EksPort>(async () => (await import("./eks.js")).AwsEks.forRegion(region)),
        ec2: lazyPort<Ec2Port>(async () => (await import("./ec2.js")).AwsEc2.forRegion(region)),
        autoscaling: lazyPort<AutoScalingPort>(async () => (await import("./autoscaling.js")).AwsAutoScaling.forRegion(region)),
        route53: lazyPort<Route53Port>(async () => (await import("./route53.js")).AwsRoute53.forRegion(region)),
        cloudwatch: lazyPort<CloudWatchPort>(async () => (await import("./cloudwatch.js")).AwsCloudWatch.forRegion(region)),
      };
      byRegion.set(region, ports);
    }
    return ports;
  };
}
