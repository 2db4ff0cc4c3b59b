// The Route53 weighted record pair a blue/green cutover moves traffic between: the route as the
// spec names it, and the weights read from and written to Route53.
import type { Route53Spec, WeightStep } from "../api/v1alpha1/types.js";
import type { Route53Port } from "../cloud/ports.js";

export interface ResolvedRoute {
  hostedZoneId: string;
  recordName: string;
  recordType: "A" | "AAAA" | "CNAME";
  blueSetIdentifier: string;
  greenSetIdentifier: string;
  externalDNS: "Refuse" | "Coexist";
}

export function resolveRoute(route: Route53Spec): ResolvedRoute {
  return {
    hostedZoneId: route.hostedZoneId.replace(/^\/hostedzone\//, ""),
    recordName: route.recordName,
    recordType: route.recordType ?? "CNAME",
    blueSetIdentifier: route.blueSetIdentifier,
    greenSetIdentifier: route.greenSetIdentifier,
    externalDNS: route.externalDNS ?? "Refuse",
  };
}

/** The weights blue and green have in Route53 now, and the longer TTL of the two records. */
export async function readWeights(route53: Route53Port, route: ResolvedRoute): Promise<{ weights: WeightStep; ttlSeconds: number }> {
  const records = await route53.weightedRecords(route.hostedZoneId, route.recordName, route.recordType);
  const blue = records.find((record) => record.setIdentifier === route.blueSetIdentifier);
  const green = records.find((record) => record.setIdentifier === route.greenSetIdentifier);
  if (!blue || !green) {
    const missing = [!blue ? route.blueSetIdentifier : undefined, !green ? route.greenSetIdentifier : undefined].filter(Boolean).join(" and ");
    throw new Error(`weighted ${route.recordType} record ${route.recordName} in hosted zone ${route.hostedZoneId} has no set identifier ${missing}`);
  }
  return { weights: { blue: blue.weight, green: green.weight }, ttlSeconds: Math.max(blue.ttl ?? 0, green.ttl ?? 0) };
}

/**
 * Sets the weights in one change batch and returns its change id, also when Route53 already has
 * these weights. Status is written once at the end of a pass, so an operator that dies after
 * ChangeResourceRecordSets and before that write leaves Route53 at the new weights with no change
 * id anywhere; skipping the call then would count the step as INSYNC without GetChange ever
 * having said so. An UPSERT of the weights already set changes nothing in the records, and
 * GetChange says INSYNC for its fresh id only once every Route53 server answers with those
 * weights, so following it proves the step has propagated.
 */
export async function applyWeights(route53: Route53Port, route: ResolvedRoute, weights: WeightStep): Promise<string> {
  // Read first for the error that names a missing set identifier before anything is sent.
  await readWeights(route53, route);
  return route53.setWeights(route.hostedZoneId, route.recordName, route.recordType, { [route.blueSetIdentifier]: weights.blue, [route.greenSetIdentifier]: weights.green });
}
