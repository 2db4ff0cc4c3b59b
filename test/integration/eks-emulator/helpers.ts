// Shared helpers of the EKS emulator's sandbox tests: SDK clients pointed at the running sandbox,
// scenario paths, and waiting on updates.
import { join } from "node:path";
import { DescribeUpdateCommand, EKSClient, type Update } from "@aws-sdk/client-eks";
import { sandboxAwsClientConfig, sandboxEnv } from "../../support/global-sandbox.js";
import { waitUntil } from "../../support/wait.js";

export const scenariosDir = join(import.meta.dirname, "..", "..", "..", "sandbox", "scenarios");

export function scenarioPath(name: string): string {
  return join(scenariosDir, `${name}.yaml`);
}

export function eksClient(): EKSClient {
  return new EKSClient({ ...sandboxAwsClientConfig(), endpoint: sandboxEnv().eksEndpointUrl });
}

/** Polls DescribeUpdate until the update leaves InProgress; returns it and every status seen. */
export async function waitForUpdateEnd(
  eks: EKSClient,
  request: { name: string; updateId: string; nodegroupName?: string; addonName?: string },
  timeoutMs = 120_000,
): Promise<{ update: Update; seen: string[] }> {
  const seen: string[] = [];
  const update = await waitUntil(
    `update ${request.updateId} of ${request.name} to finish`,
    async () => {
      const current = (await eks.send(new DescribeUpdateCommand(request))).update;
      if (current?.status && seen[seen.length - 1] !== current.status) seen.push(current.status);
      return current && current.status !== "InProgress" ? current : undefined;
    },
    timeoutMs,
    200,
  );
  return { update, seen };
}

export interface CallReport {
  counts: Record<string, number>;
  total: number;
  calls: Array<{ operation: string; clusterName?: string; request: Record<string, unknown>; status: number; errorType?: string }>;
}

export async function emulatorCalls(query: Record<string, string> = {}): Promise<CallReport> {
  const response = await fetch(`${sandboxEnv().emulatorAdminUrl}/calls?${new URLSearchParams(query).toString()}`);
  if (!response.ok) throw new Error(`GET /sandbox/calls answered ${response.status}`);
  return (await response.json()) as CallReport;
}

/** Runs one node mirror pass now instead of waiting for the next tick. */
export async function syncNodes(): Promise<void> {
  const response = await fetch(`${sandboxEnv().emulatorAdminUrl}/node-mirror/sync`, { method: "POST" });
  if (!response.ok) throw new Error(`POST /sandbox/node-mirror/sync answered ${response.status}: ${await response.text()}`);
}
