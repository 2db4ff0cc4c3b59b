// VersionRollback in the EKS emulator through the real @aws-sdk/client-eks (eks-upgrade-facts
// "Control-plane rollback"): one minor back, within 7 days of emulator time, refused on
// ROLLBACK_READINESS findings in ERROR unless forced.
import assert from "node:assert/strict";
import { DescribeClusterCommand, EKSClient, InvalidParameterException, InvalidRequestException, UpdateClusterVersionCommand } from "@aws-sdk/client-eks";
import { resetSandbox, sandboxEnv } from "../../support/global-sandbox.js";
import { eksClient, emulatorCalls, scenarioPath, waitForUpdateEnd } from "./helpers.js";

async function put(path: string, body: unknown): Promise<void> {
  const response = await fetch(`${sandboxEnv().emulatorAdminUrl}${path}`, { method: "PUT", body: JSON.stringify(body) });
  if (!response.ok) throw new Error(`PUT ${path} answered ${response.status}: ${await response.text()}`);
}

describe("EKS emulator: control-plane rollback (sandbox)", function () {
  this.timeout(240_000);
  let eks: EKSClient;

  before(async () => {
    eks = eksClient();
    await resetSandbox({ scenario: scenarioPath("default") });
    // The scenario's 480 EKS seconds would make each update last seconds; these tests need only the outcome.
    await put("/clusters/demo/settings", { controlPlaneUpdateSeconds: 60 });
    const up = (await eks.send(new UpdateClusterVersionCommand({ name: "demo", version: "1.30" }))).update!;
    assert.equal((await waitForUpdateEnd(eks, { name: "demo", updateId: up.id! })).update.status, "Successful");
  });

  it("refuses two minors back with InvalidParameterException", async () => {
    await assert.rejects(
      eks.send(new UpdateClusterVersionCommand({ name: "demo", version: "1.28" })),
      (error: unknown) => error instanceof InvalidParameterException && /one minor version only \(allowed: 1\.29\)/.test(error.message),
    );
  });

  it("refuses on a ROLLBACK_READINESS finding in ERROR unless forced, with InvalidRequestException", async () => {
    await put("/clusters/demo/insights", { insights: [{ id: "rb-health", name: "Cluster health", category: "ROLLBACK_READINESS", kubernetesVersion: "1.29", status: "ERROR" }] });
    await assert.rejects(
      eks.send(new UpdateClusterVersionCommand({ name: "demo", version: "1.29" })),
      (error: unknown) => error instanceof InvalidRequestException && /ROLLBACK_READINESS insights in ERROR: Cluster health/.test(error.message),
    );
    await put("/clusters/demo/insights", { insights: [] });
  });

  it("refuses once 7 days of emulator time have passed, and rolls back inside them with an update of type VersionRollback", async () => {
    await put("/clusters/demo/settings", { lastUpgradeAgeSeconds: 7 * 24 * 3600 + 1 });
    await assert.rejects(
      eks.send(new UpdateClusterVersionCommand({ name: "demo", version: "1.29" })),
      (error: unknown) => error instanceof InvalidRequestException && /within 7 days/.test(error.message),
    );
    await put("/clusters/demo/settings", { lastUpgradeAgeSeconds: 6 * 24 * 3600 });
    const back = (await eks.send(new UpdateClusterVersionCommand({ name: "demo", version: "1.29", clientRequestToken: "back" }))).update!;
    assert.equal(back.type, "VersionRollback");
    assert.equal((await waitForUpdateEnd(eks, { name: "demo", updateId: back.id! })).update.status, "Successful");
    assert.equal((await eks.send(new DescribeClusterCommand({ name: "demo" }))).cluster?.version, "1.29");
    const calls = await emulatorCalls({ operation: "UpdateClusterVersion", clusterName: "demo" });
    assert.deepEqual(calls.calls.map((call) => call.status), [200, 400, 400, 400, 200]);
  });
});
