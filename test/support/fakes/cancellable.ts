// Cancellation for the fake ports: wraps them so that every call is logged with the replica that
// made it, and a chosen call hangs the way a real adapter's call on a dead connection does: until
// the reconcile's signal aborts it (see src/runtime/cancellation.ts).
import type { CloudPorts } from "../../../src/cloud/ports.js";
import { abortError, currentSignal } from "../../../src/runtime/cancellation.js";

export interface PortCall {
  replica: string;
  /** "eks.startClusterVersionUpdate", … */
  call: string;
  /** Whether the reconcile's signal had already fired when the call was made. */
  afterCancel: boolean;
}

/** A call that never answers; it rejects, as an adapter's does, once the current signal aborts. */
export function hangUntilCancelled(context: string): Promise<never> {
  const signal = currentSignal();
  return new Promise<never>((_resolve, reject) => {
    if (signal === undefined) return;
    if (signal.aborted) reject(abortError(signal, context));
    else signal.addEventListener("abort", () => reject(abortError(signal, context)), { once: true });
  });
}

/**
 * `ports` with every method call appended to `log`; a call for which `hang(call)` is true hangs
 * (see hangUntilCancelled) instead of reaching the fake.
 */
export function observedPorts(ports: CloudPorts, replica: string, log: PortCall[], hang: (call: string) => boolean = () => false): CloudPorts {
  const wrap = <T extends object>(name: string, port: T): T =>
    new Proxy(port, {
      get(target, property, receiver) {
        const value: unknown = Reflect.get(target, property, receiver);
        if (typeof value !== "function" || typeof property !== "string") return value;
        return (...args: unknown[]): unknown => {
          const call = `${name}.${property}`;
          log.push({ replica, call, afterCancel: currentSignal()?.aborted === true });
          if (hang(call)) return hangUntilCancelled(call);
          return (value as (...rest: unknown[]) => unknown).apply(target, args);
        };
      },
    });
  return {
    eks: wrap("eks", ports.eks),
    ec2: wrap("ec2", ports.ec2),
    autoscaling: wrap("autoscaling", ports.autoscaling),
    route53: wrap("route53", ports.route53),
    cloudwatch: wrap("cloudwatch", ports.cloudwatch),
  };
}
