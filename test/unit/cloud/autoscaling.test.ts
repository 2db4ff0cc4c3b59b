// The Auto Scaling adapter's reading of TerminateInstanceInAutoScalingGroup's refusals: only the
// words for an instance no group manages any more mean "already gone".
import assert from "node:assert/strict";
import type { AutoScalingClient } from "@aws-sdk/client-auto-scaling";
import { AwsAutoScaling } from "../../../src/cloud/aws/autoscaling.js";
import { isNotFound, isValidation } from "../../../src/util/errors.js";

function refusing(message: string): AwsAutoScaling {
  const error = Object.assign(new Error(message), { name: "ValidationError", $fault: "client", $metadata: { httpStatusCode: 400 } });
  return new AwsAutoScaling({ send: () => Promise.reject(error) } as unknown as AutoScalingClient);
}

describe("Auto Scaling adapter: terminating an instance", () => {
  it("reads \"No managed instance found\" as an instance already gone from its group", async () => {
    const error: unknown = await refusing("Instance Id not found - No managed instance found for instance ID: i-0abc").terminateInstance("i-0abc", true).then(
      () => undefined,
      (caught: unknown) => caught,
    );
    assert.ok(isNotFound(error), String(error));
    assert.match((error as Error).message, /i-0abc.*No managed instance found for instance ID: i-0abc/);
  });

  it("keeps any other ValidationError a refusal, in Auto Scaling's words", async () => {
    const words = "Currently, desiredSize equals minSize (2). Terminating instance without replacement will violate group's min size constraint. Either set shouldDecrementDesiredCapacity flag to false or lower group's min size.";
    const error: unknown = await refusing(words).terminateInstance("i-0abc", true).then(
      () => undefined,
      (caught: unknown) => caught,
    );
    assert.ok(isValidation(error) && !isNotFound(error), String(error));
    assert.ok((error as Error).message.includes(words));
  });
});
