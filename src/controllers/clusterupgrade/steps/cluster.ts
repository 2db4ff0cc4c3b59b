// Reads the live EKS cluster. A missing cluster or a target below the live version is a spec
// problem only the user can fix: the condition says which, and nothing is changed.
import { compareMinor } from "../../../api/v1alpha1/version.js";
import { ConditionType, Reason } from "../../../api/v1alpha1/types.js";
import { isNotFound } from "../../../util/errors.js";
import { describeError } from "../../../util/errors.js";
import { CONTINUE, STOP, type Step, type StepContext } from "../context.js";

/**
 * Before anything changes, the target must be a version EKS offers in the cluster's region
 * (DescribeClusterVersions). Once the upgrade has started the check is not repeated: a version
 * leaving support mid-upgrade must not strand a half-done upgrade. A failed read skips the check
 * (UpdateClusterVersion refuses a version EKS does not offer anyway) rather than block.
 */
async function targetOffered(context: StepContext): Promise<boolean> {
  let offered: string[];
  try {
    offered = await context.cloud.eks.listClusterVersions();
  } catch (error) {
    context.log.warn("cannot read the versions EKS offers; the target is not checked against them this pass", { error: describeError(error) });
    return true;
  }
  const target = context.spec.targetVersion;
  if (offered.length === 0 || offered.includes(target)) return true;
  const sorted = [...offered].sort(compareMinor);
  const region = context.spec.cluster.region ?? "the operator's default region";
  context.setCondition(
    ConditionType.SpecValid,
    "False",
    Reason.UnsupportedVersion,
    `spec.targetVersion ${target} is not a version EKS offers in ${region}; it offers ${sorted.join(", ")}. Set spec.targetVersion to one of them. Nothing was changed.`,
  );
  return false;
}

export const clusterStep: Step = {
  name: "cluster",
  async run(context) {
    const name = context.spec.cluster.name;
    try {
      context.cluster = await context.cloud.eks.describeCluster(name);
    } catch (error) {
      if (!isNotFound(error)) throw error;
      const retired = context.status.blueRetention?.state;
      if (retired === "Deleting" || retired === "Deleted") {
        // BlueGreen with deleteBlue: blue is gone on purpose, and the retirement step records it.
        context.setCondition(ConditionType.SpecValid, "True", Reason.Valid, `blue cluster ${name} was deleted after the cutover, as spec.blueGreen.blueRetention.deleteBlue asks`);
        return CONTINUE;
      }
      const region = context.spec.cluster.region ?? "the operator's default region";
      context.setCondition(
        ConditionType.SpecValid,
        "False",
        Reason.ClusterNotFound,
        `EKS cluster ${name} was not found in ${region}: check spec.cluster.name and spec.cluster.region. Nothing was changed.`,
      );
      return STOP;
    }
    const live = context.cluster.version;
    const hopInFlight = context.status.hops?.some((hop) => hop.state === "InProgress");
    context.status.currentVersion = live;
    if (compareMinor(context.spec.targetVersion, live) < 0 && !hopInFlight) {
      context.setCondition(
        ConditionType.SpecValid,
        "False",
        Reason.TargetBelowCurrent,
        `spec.targetVersion ${context.spec.targetVersion} is below the cluster's version ${live}; EKS cannot downgrade a control plane. Set a target of ${live} or later. Nothing was changed.`,
      );
      return STOP;
    }
    if (!context.status.frozenIntent && !(await targetOffered(context))) return STOP;
    context.setCondition(ConditionType.SpecValid, "True", Reason.Valid, `cluster ${name} found at ${live}; target ${context.spec.targetVersion}`);
    return CONTINUE;
  },
};
