// CreateNodegroup and CreateAddon through the EKS adapter: only ResourceInUseException reads as
// "a resource of that name exists"; every other conflict keeps its own type and EKS's words.
import assert from "node:assert/strict";
import type { EKSClient } from "@aws-sdk/client-eks";
import { AwsEks } from "../../../src/cloud/aws/eks.js";
import { AlreadyExistsError, ConflictError } from "../../../src/util/errors.js";

function eksAnswering(error: Error & { $metadata?: unknown }): { eks: AwsEks; inputs: Record<string, unknown>[] } {
  const inputs: Record<string, unknown>[] = [];
  const client = {
    send: (command: { input: Record<string, unknown> }) => {
      inputs.push(command.input);
      return Promise.reject(error);
    },
  } as unknown as EKSClient;
  return { eks: new AwsEks(client), inputs };
}

function awsError(name: string, message: string): Error {
  return Object.assign(new Error(message), { name, $metadata: { httpStatusCode: 409 } });
}

const blueprint = { nodeRole: "arn:aws:iam::111122223333:role/nodes", subnetIds: ["subnet-a"], scaling: { min: 1, max: 2, desired: 1 }, instanceTypes: [], labels: {}, taints: [], tags: { "eksupgrade.io/created-by": "shop/cutover" } };

describe("AwsEks create calls", () => {
  it("types ResourceInUseException from CreateNodegroup as AlreadyExistsError, in EKS's words", async () => {
    const { eks } = eksAnswering(awsError("ResourceInUseException", "NodeGroup already exists with name workers and cluster name green"));
    const error = await eks.createNodegroup({ clusterName: "green", nodegroupName: "workers", version: "1.31", blueprint, clientRequestToken: "t-1" }).then(
      () => undefined,
      (thrown: unknown) => thrown,
    );
    assert.ok(error instanceof AlreadyExistsError);
    assert.match(error.message, /ResourceInUseException: NodeGroup already exists with name workers/);
  });

  it("keeps ConflictException from CreateAddon a ConflictError, and sends the token and the created-by tag", async () => {
    const { eks, inputs } = eksAnswering(awsError("ConflictException", "an update is in progress"));
    const error = await eks.createAddon({ clusterName: "green", addonName: "coredns", version: "v1.13.0-eksbuild.1", clientRequestToken: "t-2", tags: { "eksupgrade.io/created-by": "shop/cutover" } }).then(
      () => undefined,
      (thrown: unknown) => thrown,
    );
    assert.ok(error instanceof ConflictError);
    assert.ok(!(error instanceof AlreadyExistsError));
    assert.equal(inputs[0].clientRequestToken, "t-2");
    assert.deepEqual(inputs[0].tags, { "eksupgrade.io/created-by": "shop/cutover" });
  });
});
